//go:build windows

package cache

import (
	"os"

	"golang.org/x/sys/windows"
)

// fileLock is an exclusive LockFileEx lock on the first byte of a lock file.
// Locks belong to the handle, so two fileLocks exclude each other within one
// process as well as across processes; Windows releases them when the
// process dies.
type fileLock struct {
	name string
	f    *os.File
}

// openLock opens (creating) the lock file name in d. It does not lock.
func openLock(d *dirHandle, name string) (*fileLock, error) {
	f, err := d.openLockFile(name)
	if err != nil {
		return nil, err
	}
	return &fileLock{name: name, f: f}, nil
}

// tryLock takes the lock without blocking; false means another holder.
func (l *fileLock) tryLock() (bool, error) {
	ol := new(windows.Overlapped)
	err := windows.LockFileEx(windows.Handle(l.f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	switch err {
	case nil:
		return true, nil
	case windows.ERROR_LOCK_VIOLATION, windows.ERROR_IO_PENDING:
		return false, nil
	}
	return false, err
}

// linked is always true: lock files are never removed on Windows.
func (l *fileLock) linked() bool { return true }

// removeHeld keeps the lock file: Windows cannot remove an open file, and
// other holders would not notice the removal.
func (l *fileLock) removeHeld() bool { return false }

// close releases the lock (if held) and closes the file. The lock file is
// left in place.
func (l *fileLock) close() {
	windows.UnlockFileEx(windows.Handle(l.f.Fd()), 0, 1, 0, new(windows.Overlapped))
	l.f.Close()
}
