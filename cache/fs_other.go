//go:build !unix

package cache

import (
	"io"
	"os"
)

// oNoFollow does not exist here; readFileInto checks with Lstat instead.
const oNoFollow = 0

// readFileInto reads the regular file at path into buf. Without O_NOFOLLOW,
// a symlink is detected with Lstat before opening (not atomic, documented
// degradation). It fails if the file does not fit in buf with a byte to
// spare.
func readFileInto(path string, buf []byte) ([]byte, bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() >= int64(len(buf)) {
		return nil, false
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err == io.EOF {
			return buf[:n], true
		}
		if err != nil {
			return nil, false
		}
	}
	return nil, false
}

// syncDir is a no-op: directories cannot be fsynced here.
func syncDir(string) {}

// checkDirSafe accepts any directory: Unix ownership and mode bits do not
// apply (on Windows the default directory is in the user's profile).
func checkDirSafe(string, os.FileInfo) error { return nil }
