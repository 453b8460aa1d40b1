//go:build unix

package cache

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSymlinks bounds the symbolic links followed on the way (as the kernel
// does with ELOOP).
const maxSymlinks = 40

// openDir walks dir (absolute, clean) from / with openat and O_NOFOLLOW,
// checking each directory it passes (checkAncestor) and the last one
// (checkFinal), creating missing directories with mode 0700. Symbolic links
// are read and their targets walked the same way. It returns the open
// directory and its physical path.
func openDir(dir string, euid int) (*dirHandle, string, error) {
	type level struct {
		fd   int
		info dirInfo
	}
	var stack []level
	defer func() {
		for _, l := range stack {
			unix.Close(l.fd)
		}
	}()
	push := func(fd int, path string) error {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return fmt.Errorf("cache: %s: %w", path, err)
		}
		stack = append(stack, level{fd, dirInfo{path: path, uid: int(st.Uid),
			perm: os.FileMode(st.Mode & 0o777), sticky: st.Mode&unix.S_ISVTX != 0}})
		return nil
	}
	rootFd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("cache: open /: %w", err)
	}
	if err := push(rootFd, "/"); err != nil {
		return nil, "", err
	}
	pending := strings.Split(dir, "/")
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				unix.Close(stack[len(stack)-1].fd)
				stack = stack[:len(stack)-1]
			}
			continue
		}
		cur := stack[len(stack)-1]
		path := cur.info.path + "/" + name
		if cur.info.path == "/" {
			path = "/" + name
		}
		if err := checkAncestor(dir, cur.info, euid); err != nil {
			return nil, "", err
		}
		fd, err := openDirAt(cur.fd, name)
		if err == unix.ENOENT {
			if err := unix.Mkdirat(cur.fd, name, 0o700); err != nil && err != unix.EEXIST {
				return nil, "", fmt.Errorf("cache: create directory %s: %w", path, err)
			}
			fd, err = openDirAt(cur.fd, name)
		}
		if err != nil {
			var st unix.Stat_t
			if unix.Fstatat(cur.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
				return nil, "", fmt.Errorf("cache: open %s: %w", path, err)
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFLNK:
			case unix.S_IFDIR: // a directory we may not open: say why if the checks can
				info := dirInfo{path: path, uid: int(st.Uid), perm: os.FileMode(st.Mode & 0o777), sticky: st.Mode&unix.S_ISVTX != 0}
				if !morePending(pending) {
					if _, cerr := checkFinal(dir, info, euid); cerr != nil {
						return nil, "", cerr
					}
				} else if cerr := checkAncestor(dir, info, euid); cerr != nil {
					return nil, "", cerr
				}
				return nil, "", fmt.Errorf("cache: open %s: %w", path, err)
			default:
				return nil, "", fmt.Errorf("cache: %s is not a directory", path)
			}
			if links++; links > maxSymlinks {
				return nil, "", fmt.Errorf("cache: %s: too many symbolic links", dir)
			}
			// The target is read by name; whatever it says is walked and
			// checked from the directory we hold (or from / if absolute).
			target, err := os.Readlink(path)
			if err != nil {
				return nil, "", fmt.Errorf("cache: %w", err)
			}
			if strings.HasPrefix(target, "/") {
				for _, l := range stack[1:] {
					unix.Close(l.fd)
				}
				stack = stack[:1]
			}
			pending = append(strings.Split(target, "/"), pending...)
			continue
		}
		if err := push(fd, path); err != nil {
			return nil, "", err
		}
	}
	final := stack[len(stack)-1]
	tighten, err := checkFinal(dir, final.info, euid)
	if err != nil {
		return nil, "", err
	}
	// The walk may hold the last directory for searching only (O_PATH):
	// open it for reading through the descriptor we checked.
	fd, err := unix.Openat(final.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", fmt.Errorf("cache: open %s: %w", final.info.path, err)
	}
	unix.Close(final.fd)
	final.fd = fd
	stack[len(stack)-1].fd = fd
	if tighten {
		if !onlyOwnFiles(final.fd) {
			return nil, "", notOurs(final.info)
		}
		if err := unix.Fchmod(final.fd, 0o700); err != nil {
			return nil, "", fmt.Errorf("cache: chmod 700 %s: %w", final.info.path, err)
		}
	}
	stack = stack[:len(stack)-1] // the caller owns final.fd
	return &dirHandle{f: os.NewFile(uintptr(final.fd), final.info.path)}, final.info.path, nil
}

// morePending reports whether names hold another component to walk.
func morePending(names []string) bool {
	for _, n := range names {
		if n != "" && n != "." {
			return true
		}
	}
	return false
}

// openDirAt opens the directory name in dirfd for walking, never through a
// symlink.
func openDirAt(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, oSearch|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// onlyOwnFiles reports whether the directory holds nothing but files the
// helper makes.
func onlyOwnFiles(dirfd int) bool {
	fd, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return false
	}
	for _, n := range names {
		if !ownName(n) {
			return false
		}
	}
	return true
}
