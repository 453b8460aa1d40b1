//go:build !linux

package keychain

import "testing"

// captureStdio redirects file descriptors on Linux only; elsewhere the test is skipped.
func captureStdio(t *testing.T, f func()) string {
	t.Skip("file descriptor capture is implemented on Linux")
	return ""
}
