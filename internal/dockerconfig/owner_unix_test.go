//go:build unix

package dockerconfig

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestConfigureKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the file another owner")
	}
	dir := t.TempDir()
	p := writeFile(t, dir, `{"a":1}`, 0o640)
	if err := os.Chown(p, 12345, 23456); err != nil {
		t.Fatal(err)
	}
	if _, err := configure(options{ConfigDir: dir, Hosts: []string{host}, LookPath: found}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 12345 || st.Gid != 23456 || fi.Mode().Perm() != 0o640 {
		t.Errorf("owner %d:%d mode %v, want 12345:23456 0640", st.Uid, st.Gid, fi.Mode().Perm())
	}
}

func TestWriteAtomicNoticesAConcurrentWrite(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, `{"a":1}`, 0o600)
	fi, _ := os.Stat(p)
	// The file no longer holds what was read: docker login wrote it meanwhile.
	err := writeAtomic(p, []byte(`{"b":2}`), fi, []byte(`{"a":0}`))
	if err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != `{"a":1}` {
		t.Fatalf("file written: %s", got)
	}
	// A new file that appeared meanwhile is not overwritten either.
	err = writeAtomic(p, []byte(`{"b":2}`), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "appeared") {
		t.Fatalf("err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(p) {
		t.Fatalf("left behind %v", entries)
	}
}
