package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// errUnsafeDir is matched (errors.Is) by the error Open returns when the
// cache directory is not private to the current user.
var errUnsafeDir = errors.New("unsafe cache directory")

// unsafeDirError explains why a cache directory was rejected and how to fix
// it. It matches [errUnsafeDir].
type unsafeDirError struct {
	Dir    string // the rejected directory
	Reason string // e.g. "is writable by group or others (mode drwxrwxrwx)"
	Fix    string // e.g. "run: chmod 700 /home/u/.cache/docker-credential-acr"
}

func (e *unsafeDirError) Error() string {
	return fmt.Sprintf("cache: not using cache directory %s: it %s; to fix, %s", e.Dir, e.Reason, e.Fix)
}

// Unwrap makes errors.Is(err, errUnsafeDir) true.
func (e *unsafeDirError) Unwrap() error { return errUnsafeDir }

// Open opens the cache in dir. It creates dir (mode 0700, with parents) if needed and verifies that it
// is a directory owned by the current user and not writable by group or
// others. Otherwise it returns an *unsafeDirError (errors.Is errUnsafeDir);
// the caller should warn and run without a cache.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory name")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: create directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		// A symlinked cache directory is allowed; its target is checked.
		resolved, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		if fi, err = os.Lstat(resolved); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		dir = resolved
	}
	if !fi.IsDir() {
		return nil, &unsafeDirError{
			Dir:    dir,
			Reason: "is not a directory",
			Fix:    "remove it or choose a private directory",
		}
	}
	if err := checkDirSafe(dir, fi); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

// shellQuote quotes p for a POSIX shell if it contains unusual characters,
// so that the suggested fix can be pasted.
func shellQuote(p string) string {
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-+:@%,", c)) {
			return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	return p
}
