//go:build unix

package main

import (
	"os"
	"syscall"
)

// maxRSS is the peak resident set of a finished process, in KiB (Linux's ru_maxrss unit).
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
