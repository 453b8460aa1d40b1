//go:build unix

package cache

import (
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// dirHandle is the open cache directory, checked once by Open. Every file
// operation of a Store is relative to it (openat, renameat, unlinkat), so a
// directory swapped in by name after the check is never read or written.
type dirHandle struct {
	f *os.File
}

// fd returns the descriptor; callers keep d.f alive until they are done.
func (d *dirHandle) fd() int { return int(d.f.Fd()) }

func retryEINTR(op func() error) error {
	for {
		if err := op(); err != unix.EINTR {
			return err
		}
	}
}

// openat opens name in d without following a symlink.
func (d *dirHandle) openat(name string, flags int, perm uint32) (int, error) {
	defer runtime.KeepAlive(d.f)
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = unix.Openat(d.fd(), name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
		return err
	})
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return fd, nil
}

// openFile is openat returning an *os.File.
func (d *dirHandle) openFile(name string, flags int, perm uint32) (*os.File, error) {
	fd, err := d.openat(name, flags, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// readFileInto reads the regular file name into buf with nothing but open
// (O_NOFOLLOW: a symlink fails with ELOOP; O_NONBLOCK: a FIFO cannot block),
// read and close. It fails if the file does not fit in buf with a byte to
// spare.
func (d *dirHandle) readFileInto(name string, buf []byte) ([]byte, bool) {
	fd, err := d.openat(name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
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

// createExcl creates name (O_EXCL, mode perm) for writing.
func (d *dirHandle) createExcl(name string, perm uint32) (*os.File, error) {
	return d.openFile(name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, perm)
}

// rename renames from to to, both in d. It replaces a symlink at to rather
// than writing through it.
func (d *dirHandle) rename(from, to string) error {
	defer runtime.KeepAlive(d.f)
	if err := retryEINTR(func() error { return unix.Renameat(d.fd(), from, d.fd(), to) }); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// remove unlinks the file name (never a directory).
func (d *dirHandle) remove(name string) error {
	defer runtime.KeepAlive(d.f)
	if err := retryEINTR(func() error { return unix.Unlinkat(d.fd(), name, 0) }); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// stat describes name without following a symlink.
func (d *dirHandle) stat(name string) (mode os.FileMode, mtime time.Time, err error) {
	defer runtime.KeepAlive(d.f)
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Fstatat(d.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return 0, time.Time{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	mode = os.FileMode(st.Mode & 0o777)
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		mode |= os.ModeIrregular
	}
	return mode, time.Unix(int64(st.Mtim.Sec), int64(st.Mtim.Nsec)), nil
}

// sameFile reports whether f is still the file linked as name in d.
func (d *dirHandle) sameFile(f *os.File, name string) bool {
	defer runtime.KeepAlive(d.f)
	defer runtime.KeepAlive(f)
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil {
		return false
	}
	if err := retryEINTR(func() error { return unix.Fstatat(d.fd(), name, &b, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// names lists the directory through a descriptor of its own (a dup would
// share the read offset with concurrent listings).
func (d *dirHandle) names() ([]string, error) {
	f, err := d.openFile(".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// sync fsyncs the directory so that a rename in it is durable. Errors are
// ignored: some file systems do not support it.
func (d *dirHandle) sync() {
	defer runtime.KeepAlive(d.f)
	unix.Fsync(d.fd())
}

// openLockFile opens (creating, mode 0600) the lock file name without
// following a symlink.
func (d *dirHandle) openLockFile(name string) (*os.File, error) {
	return d.openFile(name, unix.O_RDWR|unix.O_CREAT, 0o600)
}

// openRead opens name for reading.
func (d *dirHandle) openRead(name string) (*os.File, error) {
	return d.openFile(name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
}

// openAppend opens name for appending, creating it (mode 0600). O_NONBLOCK:
// a FIFO put there fails (ENXIO) instead of blocking.
func (d *dirHandle) openAppend(name string) (*os.File, error) {
	return d.openFile(name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK, 0o600)
}
