// Package regularfile reads the small files the helper is given by name (its config file, the
// Alibaba Cloud credentials file and CLI config, OIDC token files) so that no such name can hang or
// flood it: the file is opened without blocking, checked on the open handle, and read only if it
// is a regular file (a symlink to one is fine), up to a limit. A FIFO, a device, a socket or a
// directory is refused at once, whatever the command's deadline.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotRegular and ErrTooLarge are what an *Error wraps.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("too large")
)

// Error says why a file was refused. Kind names what it is ("a FIFO (named pipe)"), for
// ErrNotRegular; Limit is the byte limit, for ErrTooLarge.
type Error struct {
	Path  string
	Kind  string
	Limit int64
	Err   error
}

func (e *Error) Error() string {
	if errors.Is(e.Err, ErrTooLarge) {
		return fmt.Sprintf("%s: larger than %d bytes", e.Path, e.Limit)
	}
	return fmt.Sprintf("%s: %s, not a regular file", e.Path, e.Kind)
}

func (e *Error) Unwrap() error { return e.Err }

// Read returns the contents of the regular file at path, at most limit bytes. Errors from opening
// (a missing file: os.ErrNotExist) come back as they are.
func Read(path string, limit int64) ([]byte, error) {
	if path == "" {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{Path: path, Kind: Kind(fi.Mode()), Err: ErrNotRegular}
	}
	if fi.Size() > limit {
		return nil, &Error{Path: path, Limit: limit, Err: ErrTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit { // it grew while being read
		return nil, &Error{Path: path, Limit: limit, Err: ErrTooLarge}
	}
	return data, nil
}

// Kind names a file type for messages.
func Kind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
