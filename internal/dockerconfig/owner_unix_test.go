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
		t.Skip("needs root to give the file another group")
	}
	dir := t.TempDir()
	p := writeFile(t, dir, `{"a":1}`, 0o640)
	if err := os.Chown(p, 0, 23456); err != nil {
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
	if st.Uid != 0 || st.Gid != 23456 || fi.Mode().Perm() != 0o640 {
		t.Errorf("owner %d:%d mode %v, want 0:23456 0640", st.Uid, st.Gid, fi.Mode().Perm())
	}
}

// Issue 20 §6: run as root with a user's HOME (sudo keeping it), configure-docker refuses a
// config file, a directory or a link target another user owns, resolving the path component by
// component: before, it followed the user's symbolic link and rewrote a root-owned file.
func TestConfigureAsRootRefusesAnotherUsersPath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const user = 12345
	base := t.TempDir()
	rootFile := filepath.Join(base, "root-owned.json")
	if err := os.WriteFile(rootFile, []byte(`{"root":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mkdir := func(p string, uid int, mode os.FileMode) string {
		if err := os.MkdirAll(p, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		os.Chown(p, uid, uid)
		return p
	}
	// The user's home and docker directory, with a link the user made to root's file.
	home := mkdir(filepath.Join(base, "home"), user, 0o755)
	docker := mkdir(filepath.Join(home, ".docker"), user, 0o700)
	if err := os.Symlink(rootFile, filepath.Join(docker, "config.json")); err != nil {
		t.Fatal(err)
	}
	os.Lchown(filepath.Join(docker, "config.json"), user, user)
	// A root-owned directory whose link leads to the user's file.
	rootDir := mkdir(filepath.Join(base, "rootdir"), 0, 0o755)
	userFile := filepath.Join(home, "mine.json")
	os.WriteFile(userFile, []byte(`{}`), 0o600)
	os.Chown(userFile, user, user)
	if err := os.Symlink(userFile, filepath.Join(rootDir, "config.json")); err != nil {
		t.Fatal(err)
	}
	// A root-owned file in a directory others can write.
	open := mkdir(filepath.Join(base, "open"), 0, 0o777)
	os.WriteFile(filepath.Join(open, "config.json"), []byte(`{}`), 0o600)
	for _, tc := range []struct{ dir, want string }{
		{docker, "is owned by uid 12345, not by root"},
		{rootDir, "is owned by uid 12345, not by root"},
		{open, "writable by group or others"},
		{filepath.Join(home, ".new-docker"), "is owned by uid 12345, not by root"},
	} {
		_, err := configure(options{ConfigDir: tc.dir, Hosts: []string{host}, LookPath: found})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "as root") {
			t.Errorf("%s: err = %v, want %q", tc.dir, err, tc.want)
		}
	}
	if b, _ := os.ReadFile(rootFile); string(b) != `{"root":true}` {
		t.Errorf("root's file was rewritten: %s", b)
	}
	if b, _ := os.ReadFile(userFile); string(b) != `{}` {
		t.Errorf("the user's file was rewritten as root: %s", b)
	}
	if _, err := os.Stat(filepath.Join(home, ".new-docker")); err == nil {
		t.Error("root made a directory in the user's home")
	}
	// root's own directory is edited as before.
	own := mkdir(filepath.Join(base, "root-docker"), 0, 0o700)
	if _, err := configure(options{ConfigDir: own, Hosts: []string{host}, LookPath: found}); err != nil {
		t.Errorf("root's own directory: %v", err)
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
