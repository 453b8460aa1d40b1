//go:build !unix

package regularfile

import "os"

// openNonBlocking opens path for reading; systems without FIFOs in the file system do not block
// on open.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
