package sts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"syscall"
)

// smallFileLimit bounds every file the chain reads: credentials files, CLI configs and OIDC
// tokens are a few KiB.
const smallFileLimit = 256 << 10

// readSmall reads a regular file of at most smallFileLimit bytes. It never blocks: the file is
// opened non-blocking and anything but a regular file (a FIFO, a device, a directory) is refused
// before it is read, so a FIFO in place of a credentials file cannot hang the helper past its
// deadline.
func readSmall(path string) ([]byte, error) {
	if path == "" {
		return nil, os.ErrNotExist
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("not a regular file (%s)", fileKind(fi.Mode()))}
	}
	data, err := io.ReadAll(io.LimitReader(f, smallFileLimit+1))
	if err != nil {
		return nil, err
	}
	if len(data) > smallFileLimit {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d KiB", smallFileLimit>>10)}
	}
	return data, nil
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

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "not a plain file"
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}
