package sts

import (
	"github.com/docker-credential-acr/docker-credential-acr/internal/regularfile"

	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// smallFileLimit bounds every file the chain reads: credentials files, CLI configs and OIDC
// tokens are a few KiB.
const smallFileLimit = 256 << 10

// readSmall reads a regular file of at most smallFileLimit bytes. It never blocks: anything but a
// regular file (a FIFO, a device, a directory) is refused before it is read (internal/regularfile),
// so a FIFO in place of a credentials file cannot hang the helper past its deadline.
func readSmall(path string) ([]byte, error) {
	data, err := regularfile.Read(path, smallFileLimit)
	var re *regularfile.Error
	if errors.As(err, &re) {
		if errors.Is(err, regularfile.ErrTooLarge) {
			return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d KiB", smallFileLimit>>10)}
		}
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a regular file (%s)", re.Kind)}
	}
	return data, err
}

// present reports whether something exists at path (a broken file is present: it is an error to
// report, not a reason to use another source).
func present(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}
