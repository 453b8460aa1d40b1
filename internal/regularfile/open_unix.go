//go:build unix

package regularfile

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without blocking: opening a FIFO for reading waits for
// a writer, which may never come. Regular files ignore O_NONBLOCK.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}
