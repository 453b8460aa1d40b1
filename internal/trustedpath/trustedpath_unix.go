//go:build unix

package trustedpath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

func resolve(path string, owners []int) (string, bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false, err
	}
	check := func(p string, fi fs.FileInfo, final bool) error {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return &Error{Path: abs, Component: p, Reason: "cannot be checked (no owner)"}
		}
		if !ownerOK(int(st.Uid), owners) {
			return &Error{Path: abs, Component: p, Reason: fmt.Sprintf("is owned by uid %d, not by %s", st.Uid, ownerNames(owners))}
		}
		perm := fi.Mode().Perm()
		sticky := fi.Mode()&fs.ModeSticky != 0 && fi.IsDir()
		if perm&0o022 != 0 && (final || !sticky) {
			return &Error{Path: abs, Component: p, Reason: fmt.Sprintf("is writable by group or others (mode %04o)", perm)}
		}
		return nil
	}
	root, err := os.Lstat("/")
	if err != nil {
		return "", false, err
	}
	if err := check("/", root, false); err != nil {
		return "", false, err
	}
	cur := "/"
	pending := split(abs)
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := join(cur, name)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			rest := append([]string{name}, pending...)
			return filepath.Join(cur, filepath.Join(rest...)), false, nil
		}
		if err != nil {
			return "", false, err
		}
		last := !more(pending)
		if fi.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return "", false, &Error{Path: abs, Component: next, Reason: "leads through too many symbolic links"}
			}
			// The link lies in a checked directory; its target is walked and checked in turn.
			target, err := os.Readlink(next)
			if err != nil {
				return "", false, err
			}
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			pending = append(split(target), pending...)
			continue
		}
		if !last && !fi.IsDir() {
			return "", false, &Error{Path: abs, Component: next, Reason: "is not a directory"}
		}
		if err := check(next, fi, last); err != nil {
			return "", false, err
		}
		cur = next
	}
	return cur, true, nil
}

func more(names []string) bool {
	for _, n := range names {
		if n != "" && n != "." {
			return true
		}
	}
	return false
}
