// Package trustedpath decides whether a file the helper acts on (a CLI config whose profile runs a
// command, docker's config.json written by root) could have been put there by another user. The
// path is resolved component by component from /, never letting the kernel follow a link: each
// symbolic link is read and its target walked the same way. Every directory passed and the file
// itself must be owned by root or the effective user (the uids a caller accepts) and not writable
// by group or others (a directory may be, if it is sticky, like /tmp). This is ssh's rule for the
// files it trusts, and the one the cache directory is checked by.
package trustedpath

import (
	"fmt"
	"strings"
)

// maxLinks bounds the symbolic links followed on the way (as the kernel does with ELOOP).
const maxLinks = 40

// Error says which component of a path is not trusted, and why.
type Error struct {
	Path      string // the path asked about
	Component string // the directory, link or file that failed the check
	Reason    string // "is owned by uid 1000", "is writable by group or others (mode 0777)"
}

func (e *Error) Error() string {
	if e.Component == e.Path {
		return fmt.Sprintf("%s %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("%s lies in %s, which %s", e.Path, e.Component, e.Reason)
}

// Resolve returns the physical path of path (absolute), having checked every directory on the way
// and the final entry, if it exists, as the package says; owners are the uids accepted. A missing
// component ends the walk: the rest of the path is appended as it is, and exists is false. On
// systems without Unix ownership it returns the path unchecked.
func Resolve(path string, owners ...int) (resolved string, exists bool, err error) {
	return resolve(path, owners)
}

// ownerNames names the accepted owners: "root", "uid 1000 or root".
func ownerNames(owners []int) string {
	var names []string
	for i, o := range owners {
		if i > 0 && o == owners[0] {
			continue
		}
		if o == 0 {
			names = append(names, "root")
		} else {
			names = append(names, fmt.Sprintf("uid %d", o))
		}
	}
	return strings.Join(names, " or ")
}

// ownerOK reports whether uid is one of owners.
func ownerOK(uid int, owners []int) bool {
	for _, o := range owners {
		if uid == o {
			return true
		}
	}
	return false
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func split(p string) []string { return strings.Split(p, "/") }
