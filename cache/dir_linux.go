//go:build linux

package cache

import "golang.org/x/sys/unix"

// oSearch opens a directory on the path only to walk through it: with
// O_PATH, a directory the user may search but not read (mode 0711) can be
// passed too.
const oSearch = unix.O_PATH
