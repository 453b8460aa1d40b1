//go:build unix && !linux

package cache

import "golang.org/x/sys/unix"

// oSearch: without O_PATH, directories on the path are opened for reading.
const oSearch = unix.O_RDONLY
