//go:build unix

package regularfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(regular, []byte("strict: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       string // contents, or the error's text
		is         error
	}{
		{"regular", regular, "strict: true\n", nil},
		{"symlink to a regular file", link, "strict: true\n", nil},
		{"FIFO: refused at once, never opened for a writer", fifo, "a FIFO (named pipe), not a regular file", ErrNotRegular},
		{"character device", "/dev/zero", "a character device, not a regular file", ErrNotRegular},
		{"directory", dir, "a directory, not a regular file", ErrNotRegular},
		{"over the limit", big, "larger than 1024 bytes", ErrTooLarge},
		{"missing", filepath.Join(dir, "nope"), "no such file", os.ErrNotExist},
		{"no name", "", "file does not exist", os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := Read(tc.path, 1024)
			if tc.is == nil {
				if err != nil || string(data) != tc.want {
					t.Fatalf("Read = %q, %v", data, err)
				}
				return
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.want)
			}
		})
	}
}
