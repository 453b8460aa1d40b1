//go:build !windows && (!unix || aix)

package cache

import "os"

// fileLock degrades to no cross-process locking on platforms without flock
// or LockFileEx: concurrent processes may then fetch the same token more
// than once, which is wasteful but harmless. The lock file is still created
// (mode 0600) so the directory looks the same everywhere.
type fileLock struct {
	name string
	f    *os.File
}

func openLock(name string) (*fileLock, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600)
	if err != nil {
		return nil, err
	}
	return &fileLock{name: name, f: f}, nil
}

func (l *fileLock) tryLock() (bool, error) { return true, nil }

func (l *fileLock) close() { l.f.Close() }
