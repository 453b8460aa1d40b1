package keychain

import (
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// captureStdio runs f with file descriptors 1 and 2 redirected to a pipe, and returns what was
// written to them: whatever route a write takes (os.Stdout, a saved *os.File, a C library),
// it lands there. f must not call t.Log (go test -v would print it at once).
func captureStdio(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := [2]int{}
	for i, fd := range []int{1, 2} {
		if saved[i], err = unix.Dup(fd); err != nil {
			t.Fatal(err)
		}
		if err := unix.Dup3(int(w.Fd()), fd, 0); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); got <- b }()
	func() {
		defer func() {
			for i, fd := range []int{1, 2} {
				unix.Dup3(saved[i], fd, 0)
				unix.Close(saved[i])
			}
			w.Close()
		}()
		f()
	}()
	out := <-got
	r.Close()
	return string(out)
}
