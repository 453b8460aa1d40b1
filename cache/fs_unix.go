//go:build unix

package cache

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

const oNoFollow = unix.O_NOFOLLOW

// readFileInto reads the regular file at path into buf with nothing but
// open (O_NOFOLLOW: a symlink fails with ELOOP; O_NONBLOCK: a FIFO cannot
// block), read and close. It fails if the file does not fit in buf with a
// byte to spare.
func readFileInto(path string, buf []byte) ([]byte, bool) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m < 0 {
			return nil, false
		}
		if m == 0 {
			return buf[:n], true
		}
		n += m
	}
	return nil, false
}

// syncDir fsyncs a directory so that a rename in it is durable. Errors are
// ignored: some file systems do not support it.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

// checkDirSafe rejects a directory owned by another user or writable by
// group or others.
func checkDirSafe(dir string, fi os.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
			return &unsafeDirError{
				Dir:    dir,
				Reason: fmt.Sprintf("is owned by uid %d, not by the current user (uid %d)", st.Uid, uid),
				Fix: fmt.Sprintf("remove it (rm -r %s) or run: chown %d %s; or choose a directory you own",
					shellQuote(dir), uid, shellQuote(dir)),
			}
		}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return &unsafeDirError{
			Dir:    dir,
			Reason: fmt.Sprintf("is writable by group or others (mode %04o)", perm),
			Fix:    fmt.Sprintf("run: chmod 700 %s", shellQuote(dir)),
		}
	}
	return nil
}
