//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileRefusesSpecialFiles: only regular files are read; the rest fail at once, with the
// path and the kind of file in the message.
func TestReadFileRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	regular := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(regular, []byte("strict: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	env := func(string) string { return "" }
	for _, tt := range []struct{ path, want string }{
		{fifo, "a FIFO (named pipe), not a regular file"},
		{"/dev/zero", "a character device, not a regular file"},
		{dir, "a directory, not a regular file"},
		{big, "larger than"},
		{regular, ""},
		{link, ""},
	} {
		c, err := LoadFile(tt.path, env)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.path, err)
		case tt.want == "" && !c.Strict:
			t.Errorf("%s: not read", tt.path)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path)):
			t.Errorf("%s: err = %v, want %q", tt.path, err, tt.want)
		}
	}
}
