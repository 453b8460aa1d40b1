//go:build unix

package kubeletinstall

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// lockWait bounds how long an installer waits for another one on the same node.
var lockWait = 2 * time.Minute

// lockRoot takes an exclusive lock on the node's root directory for the length of one run: the
// DaemonSet's init container, its readiness check and an old pod's preStop may run at once on a
// node, and each must see the others' writes whole. The lock is on the directory itself (the
// same inode however the host is mounted), so it leaves no file behind.
func lockRoot(root string) (func(), error) {
	f, err := os.Open(root)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			var once sync.Once
			return func() { once.Do(func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }) }, nil
		}
		if err != unix.EWOULDBLOCK || time.Now().After(deadline) {
			f.Close()
			if err == unix.EWOULDBLOCK {
				return nil, fmt.Errorf("another install-kubelet-plugin has held the lock on %s for %v; wait for it to finish, or find it (fuser %s)", root, lockWait, root)
			}
			return nil, fmt.Errorf("locking %s: %w", root, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
