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

// Open opens the cache in dir. On Unix it walks the path from / with
// openat, creating missing directories (mode 0700) and checking every
// directory on the way the way ssh checks the path to its files: owned by
// root or the current user, not writable by group or others unless sticky
// (like /tmp). Symbolic links on the way are followed and their targets
// checked the same way. The cache directory itself must be owned by the
// current user and not writable by group or others; if it is readable by
// them and holds nothing but the helper's files, it is tightened to 0700.
// The Store keeps the checked directory open: later reads and writes are
// relative to it, so a directory swapped in by name is never used.
//
// Root never makes or uses a directory in another user's home (as with
// `sudo -E`, which keeps the user's HOME): that would leave root-owned files
// that turn the user's cache off. Any rejection is an error explaining the
// fix (errors.Is errUnsafeDir); the caller should warn and run without a
// cache for this call.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory name")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	d, resolved, err := openDir(dir, os.Geteuid())
	if err != nil {
		return nil, err
	}
	return &Store{dir: resolved, d: d}, nil
}

// dirInfo is what the checks know about one directory on the path.
type dirInfo struct {
	path   string
	uid    int
	perm   os.FileMode // permission bits
	sticky bool
}

// checkAncestor checks a directory that contains the next one on the path
// to dir, for a process running as euid.
func checkAncestor(dir string, a dirInfo, euid int) error {
	if a.uid != 0 && a.uid != euid {
		if euid == 0 {
			return &unsafeDirError{
				Dir: dir,
				Reason: fmt.Sprintf("lies in %s, which is owned by uid %d, while this process runs as root "+
					"(sudo -E keeps the user's HOME); running without the cache for this call, "+
					"so as not to leave root-owned files there", a.path, a.uid),
				Fix: fmt.Sprintf("run sudo without -E, or run as uid %d, or give root a cache directory that root owns", a.uid),
			}
		}
		return &unsafeDirError{
			Dir:    dir,
			Reason: fmt.Sprintf("lies in %s, which is owned by uid %d, neither by you (uid %d) nor by root", a.path, a.uid, euid),
			Fix:    "choose a cache directory in your own home",
		}
	}
	if a.perm&0o022 != 0 && !a.sticky {
		return &unsafeDirError{
			Dir:    dir,
			Reason: fmt.Sprintf("lies in %s, which is writable by group or others (mode %04o) and not sticky", a.path, a.perm),
			Fix:    fmt.Sprintf("run: chmod go-w %s, or choose a cache directory elsewhere", shellQuote(a.path)),
		}
	}
	return nil
}

// checkFinal checks the cache directory itself. tighten means it is ours
// but readable or searchable by group or others: it should be made 0700.
func checkFinal(dir string, f dirInfo, euid int) (tighten bool, err error) {
	if f.uid != euid {
		switch {
		case f.uid == 0:
			return false, &unsafeDirError{
				Dir:    f.path,
				Reason: fmt.Sprintf("is owned by root, not by you (uid %d); it was probably made by a run as root that kept your HOME (sudo -E)", euid),
				Fix:    fmt.Sprintf("run: sudo rm -rf %s (the helper makes it again)", shellQuote(f.path)),
			}
		case euid == 0:
			return false, &unsafeDirError{
				Dir:    f.path,
				Reason: fmt.Sprintf("is owned by uid %d, while this process runs as root; running without the cache for this call", f.uid),
				Fix:    fmt.Sprintf("run as uid %d, or give root a cache directory that root owns", f.uid),
			}
		default:
			return false, &unsafeDirError{
				Dir:    f.path,
				Reason: fmt.Sprintf("is owned by uid %d, not by the current user (uid %d)", f.uid, euid),
				Fix: fmt.Sprintf("remove it (rm -r %s) or run: chown %d %s; or choose a directory you own",
					shellQuote(f.path), euid, shellQuote(f.path)),
			}
		}
	}
	if f.perm&0o022 != 0 {
		return false, &unsafeDirError{
			Dir:    f.path,
			Reason: fmt.Sprintf("is writable by group or others (mode %04o)", f.perm|stickyBits(f.sticky)),
			Fix:    fmt.Sprintf("run: chmod 700 %s", shellQuote(f.path)),
		}
	}
	return f.perm&0o077 != 0, nil
}

func stickyBits(sticky bool) os.FileMode {
	if sticky {
		return 0o1000
	}
	return 0
}

// notOurs returns an error for a directory that is readable by others and
// holds files the helper did not make: it may be some other directory given
// by mistake, whose mode must not be changed.
func notOurs(f dirInfo) error {
	return &unsafeDirError{
		Dir:    f.path,
		Reason: fmt.Sprintf("is readable by group or others (mode %04o) and holds files the helper did not make", f.perm),
		Fix:    fmt.Sprintf("run: chmod 700 %s if it is meant as the cache directory, or choose an empty directory", shellQuote(f.path)),
	}
}

// ownName reports whether name is a file the helper makes in its
// directories (cache or login store).
func ownName(name string) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(name, lookupSuffix), lockSuffix)
	return isKey(base) || strings.HasPrefix(name, tmpPrefix) || name == eraseLogName || name == pruneName || name == lastingDueName ||
		strings.HasPrefix(name, loginPrefix) && strings.HasSuffix(name, loginSuffix)
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
