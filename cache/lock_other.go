//go:build !windows && (!unix || aix)

package cache

import "os"

// fileLock degrades to no cross-process locking on platforms without flock
// or LockFileEx: concurrent processes may then fetch the same token more
// than once, which is wasteful but harmless. The lock file is still created
// (mode 0600) so the directory looks the same everywhere, and never removed.
type fileLock struct {
	name string
	f    *os.File
}

func openLock(d *dirHandle, name string) (*fileLock, error) {
	f, err := d.openLockFile(name)
	if err != nil {
		return nil, err
	}
	return &fileLock{name: name, f: f}, nil
}

func (l *fileLock) tryLock() (bool, error) { return true, nil }

func (l *fileLock) linked() bool { return true }

// removeHeld keeps the lock file: without real locks, removing it could not
// be made safe.
func (l *fileLock) removeHeld() bool { return false }

func (l *fileLock) close() { l.f.Close() }
