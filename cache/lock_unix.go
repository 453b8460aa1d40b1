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
//
// A lock file may be removed, but only by a holder of its lock (prune). So
// that this keeps mutual exclusion, whoever takes a lock checks that the
// file it locked is still the one linked under the name (linked); if not,
// it was removed while this process waited, and the lock must be taken
// again on a freshly opened file.
type fileLock struct {
	d    *dirHandle
	name string
	f    *os.File
}

// openLock opens (creating, mode 0600) the lock file name in d without
// following a symlink. It does not lock.
func openLock(d *dirHandle, name string) (*fileLock, error) {
	f, err := d.openLockFile(name)
	if err != nil {
		return nil, err
	}
	return &fileLock{d: d, name: name, f: f}, nil
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

// linked reports whether the locked file is still the lock file of its
// name (it was not removed by prune while this process waited).
func (l *fileLock) linked() bool { return l.d.sameFile(l.f, l.name) }

// removeHeld removes the lock file while the lock is held; see fileLock.
func (l *fileLock) removeHeld() bool { return l.d.remove(l.name) == nil }

// close releases the lock (if held) and closes the file.
func (l *fileLock) close() {
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
}
