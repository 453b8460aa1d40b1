//go:build !unix

package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// dirHandle is the cache directory by name: without openat, operations go
// through the path (documented degradation; on Windows the default
// directory lives in the user's profile, which others cannot change).
type dirHandle struct {
	dir string
}

func (d *dirHandle) path(name string) string { return filepath.Join(d.dir, name) }

// openDir creates dir (0700, with parents) and checks that it is a
// directory; ownership and mode bits do not apply here.
func openDir(dir string, _ int) (*dirHandle, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("cache: create directory: %w", err)
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, "", fmt.Errorf("cache: %w", err)
	}
	fi, err := os.Lstat(resolved)
	if err != nil {
		return nil, "", fmt.Errorf("cache: %w", err)
	}
	if !fi.IsDir() {
		return nil, "", fmt.Errorf("cache: %s is not a directory", resolved)
	}
	return &dirHandle{dir: resolved}, resolved, nil
}

// readFileInto reads the regular file name into buf. Without O_NOFOLLOW, a
// symlink is detected with Lstat before opening (not atomic). It fails if
// the file does not fit in buf with a byte to spare.
func (d *dirHandle) readFileInto(name string, buf []byte) ([]byte, bool) {
	path := d.path(name)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() >= int64(len(buf)) {
		return nil, false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err == io.EOF {
			return buf[:n], true
		}
		if err != nil {
			return nil, false
		}
	}
	return nil, false
}

func (d *dirHandle) createExcl(name string, perm uint32) (*os.File, error) {
	return os.OpenFile(d.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(perm))
}

// errSymlink refuses a symlink where a lock file should be.
var errSymlink = errors.New("is a symbolic link")

// openLockFile opens name for locking (read-write, created if missing); a
// symlink is refused.
func (d *dirHandle) openLockFile(name string) (*os.File, error) {
	if fi, err := os.Lstat(d.path(name)); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: errSymlink}
	}
	return os.OpenFile(d.path(name), os.O_RDWR|os.O_CREATE, 0o600)
}

func (d *dirHandle) rename(from, to string) error { return os.Rename(d.path(from), d.path(to)) }

func (d *dirHandle) remove(name string) error { return os.Remove(d.path(name)) }

func (d *dirHandle) stat(name string) (os.FileMode, time.Time, error) {
	fi, err := os.Lstat(d.path(name))
	if err != nil {
		return 0, time.Time{}, err
	}
	mode := fi.Mode().Perm()
	if !fi.Mode().IsRegular() {
		mode |= os.ModeIrregular
	}
	return mode, fi.ModTime(), nil
}

func (d *dirHandle) names() ([]string, error) {
	f, err := os.Open(d.dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// sync is a no-op: directories cannot be fsynced here.
func (d *dirHandle) sync() {}

func (d *dirHandle) openRead(name string) (*os.File, error) {
	if fi, err := os.Lstat(d.path(name)); err == nil && !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: name, Err: errSymlink}
	}
	return os.Open(d.path(name))
}

func (d *dirHandle) openAppend(name string) (*os.File, error) {
	if fi, err := os.Lstat(d.path(name)); err == nil && !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: name, Err: errSymlink}
	}
	return os.OpenFile(d.path(name), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}
