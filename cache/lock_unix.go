//go:build unix && !aix

package cache

import (
	"os"

	"golang.org/x/sys/unix"
)

// fileLock is an exclusive flock(2) on a lock file. flock locks belong to
// the open file description, so two fileLocks on the same file exclude each
// other within one process as well as across processes, and the lock is
// released by the kernel when the process dies.
type fileLock struct {
	name string
	f    *os.File
}

// openLock opens (creating, mode 0600) the lock file without following a
// symlink. It does not lock.
func openLock(name string) (*fileLock, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	return &fileLock{name: name, f: f}, nil
}

// tryLock takes the lock without blocking; false means another holder.
func (l *fileLock) tryLock() (bool, error) {
	for {
		err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch err {
		case nil:
			return true, nil
		case unix.EWOULDBLOCK:
			return false, nil
		case unix.EINTR:
			continue
		}
		return false, err
	}
}

// close releases the lock (if held) and closes the file. The lock file is
// left in place.
func (l *fileLock) close() {
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
}
