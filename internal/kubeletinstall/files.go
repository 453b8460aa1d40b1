package kubeletinstall

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Files of the node: paths are absolute in the node's filesystem and joined to the root. A
// symbolic link is not followed (under a DaemonSet's host mount an absolute link would point
// into the container), and a file without any write permission is left alone: both are refused
// with the path.

// readNodeFile reads path of the node under root.
func readNodeFile(root, path string) ([]byte, error) {
	host := filepath.Join(root, path)
	fi, err := os.Lstat(host)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link, which the installer does not follow (under --root it may point elsewhere); name the file it points to", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return os.ReadFile(host)
}

// nodeFile is what the installer knows of one file before changing it.
type nodeFile struct {
	Path   string
	Exists bool
	Data   []byte
	Mode   fs.FileMode
	UID    int
	GID    int
}

func statNodeFile(root, path string) (nodeFile, error) {
	f := nodeFile{Path: path}
	data, err := readNodeFile(root, path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	fi, err := os.Stat(filepath.Join(root, path))
	if err != nil {
		return f, err
	}
	f.Exists, f.Data, f.Mode = true, data, fi.Mode().Perm()
	f.UID, f.GID = owner(fi)
	return f, nil
}

func hashOf(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// writeAtomic writes data to path of the node (a temporary file in the same directory, synced,
// then renamed over it), with mode and, as root, the owner; it creates the missing parent
// directories (0755) and returns those it created, outermost first.
func writeAtomic(root, path string, data []byte, mode fs.FileMode, uid, gid int) ([]string, error) {
	host := filepath.Join(root, path)
	created, err := mkdirs(root, filepath.Dir(path))
	if err != nil {
		return created, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(host), "."+filepath.Base(host)+".tmp-*")
	if err != nil {
		return created, fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return created, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return created, fmt.Errorf("writing %s: %w", path, err)
	}
	if os.Geteuid() == 0 && uid >= 0 {
		_ = tmp.Chown(uid, gid)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return created, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return created, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), host); err != nil {
		return created, fmt.Errorf("writing %s: %w", path, err)
	}
	return created, nil
}

// mkdirs creates dir of the node and its missing parents, returning those it created.
func mkdirs(root, dir string) ([]string, error) {
	var missing []string
	for d := dir; d != "/" && d != "." && d != ""; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(root, d)); err == nil {
			break
		}
		missing = append([]string{d}, missing...)
	}
	var created []string
	for _, d := range missing {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil && !os.IsExist(err) {
			return created, fmt.Errorf("creating %s: %w", d, err)
		}
		created = append(created, d)
	}
	return created, nil
}
