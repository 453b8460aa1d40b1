//go:build unix

package cache

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const nobody = 65534 // the uid of "another user" in these tests (chown needs root)

// TestAncestorChecks: every directory on the way to the cache directory is
// checked the way ssh checks the path to its files: owned by root or the
// user, not writable by group or others unless sticky (like /tmp).
func TestAncestorChecks(t *testing.T) {
	root := os.Geteuid() == 0
	tests := []struct {
		name      string
		parent    os.FileMode // mode of <tmp>/p; the cache dir is <tmp>/p/q/cache
		grand     bool        // the mode applies to <tmp>/p, the cache's grandparent
		chown     bool        // <tmp>/p is owned by another user
		wantErr   string      // "" = accepted
		needsRoot bool
	}{
		{"parent 0755 ok", 0o755, false, false, "", false},
		{"parent 0777 not sticky", 0o777, false, false, "writable by group or others", false},
		{"parent 0770 not sticky", 0o770, false, false, "writable by group or others", false},
		{"grandparent 0777 not sticky", 0o777, true, false, "writable by group or others", false},
		{"parent 1777 sticky ok", 0o777 | os.ModeSticky, false, false, "", false},
		{"parent 0777 of another user", 0o777, false, true, "owned by uid 65534", true},
		{"root in another user's home (sudo -E)", 0o755, false, true, "without the cache", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsRoot && !root {
				t.Skip("chown needs root")
			}
			tmp := t.TempDir()
			p := filepath.Join(tmp, "p")
			dir := filepath.Join(p, "q", "cache")
			if tt.grand {
				dir = filepath.Join(p, "q", "r", "cache")
				if err := os.MkdirAll(filepath.Join(p, "q"), 0o700); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.chown {
				if err := os.Chown(p, nobody, nobody); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(p, tt.parent); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Dir() != dir {
					t.Fatalf("Dir = %s, want %s", s.Dir(), dir)
				}
				return
			}
			if err == nil || s != nil {
				t.Fatalf("accepted %s", dir)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, p) {
				t.Fatalf("error %q does not say %q about %s", msg, tt.wantErr, p)
			}
			t.Logf("error text: %v", err)
			if _, err := os.Lstat(filepath.Join(p, "q", "r")); tt.grand && err == nil {
				t.Fatal("created a directory below the unsafe one")
			}
			if _, err := os.Lstat(filepath.Join(p, "q")); !tt.grand && err == nil {
				t.Fatal("created a directory below the unsafe one")
			}
		})
	}
}

// TestSymlinkIntoUnsafePlace: a symlink in a safe directory that leads into
// a world-writable one is refused; the traversed target is what is checked.
func TestSymlinkIntoUnsafePlace(t *testing.T) {
	tmp := t.TempDir()
	open := filepath.Join(tmp, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	safe := filepath.Join(tmp, "safe")
	os.Mkdir(safe, 0o700)
	if err := os.Symlink(filepath.Join("..", "open"), filepath.Join(safe, "link")); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(filepath.Join(safe, "link", "cache")); err == nil || !strings.Contains(err.Error(), open) {
		t.Fatalf("Open through a symlink into %s = %v, %v", open, s, err)
	}
}

// TestSwapAfterOpen: the directory is replaced after Open (renamed away, a
// symlink to another directory put in its place). Reads and writes still go
// to the directory that was checked.
func TestSwapAfterOpen(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "cache")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := Key("k")
	mustPut(t, s, key, tok("h", "u", "checked", time.Now(), time.Hour))
	evil := filepath.Join(tmp, "evil")
	os.Mkdir(evil, 0o700)
	data := mustEncode(t, key, tok("h", "u", "planted", time.Now(), time.Hour))
	os.WriteFile(filepath.Join(evil, key), data, 0o600)
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(evil, dir); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Get(key); !ok || e.Secret != "checked" {
		t.Fatalf("read after the swap: %v %v", e, ok)
	}
	mustPut(t, s, Key("k2"), tok("h", "u", "new", time.Now(), time.Hour))
	if _, err := os.Lstat(filepath.Join(evil, Key("k2"))); err == nil {
		t.Fatal("write went to the swapped-in directory")
	}
	if _, err := os.Lstat(filepath.Join(dir+".moved", Key("k2"))); err != nil {
		t.Fatalf("write did not reach the checked directory: %v", err)
	}
}

// TestUserFindsRootOwnedDir: a directory left by `sudo -E` (owned by root,
// in the user's home) gives the user an error naming the fix. The user is a
// real process running as uid 65534.
func TestUserFindsRootOwnedDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	tmp := t.TempDir()
	for _, d := range []string{filepath.Dir(tmp), tmp} { // the other user must reach the binary
		os.Chmod(d, 0o755)
	}
	bin := filepath.Join(tmp, "cache.test")
	copyFile(t, os.Args[0], bin)
	home := filepath.Join(tmp, "home")
	dir := filepath.Join(home, ".cache", "docker-credential-acr")
	if err := os.MkdirAll(dir, 0o700); err != nil { // made by root
		t.Fatal(err)
	}
	for _, d := range []string{home, filepath.Join(home, ".cache")} {
		if err := os.Chown(d, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperProcess$", "-test.count=1", "-test.timeout=60s")
	cmd.Env = []string{envHelper + "=open", envDir + "=" + dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	t.Logf("as uid %d: %s", nobody, out)
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	if want := "sudo rm -rf " + dir; !strings.Contains(string(out), "OPEN-ERROR") || !strings.Contains(string(out), want) {
		t.Fatalf("the user is not told to run %q", want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTightenOnlyOwnDirectory: a 0755 directory holding files the helper did
// not make (some other directory given by mistake) is refused, its mode left
// alone; one holding only the helper's files is tightened to 0700.
func TestTightenOnlyOwnDirectory(t *testing.T) {
	for _, foreign := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "cache")
		os.Mkdir(dir, 0o700)
		os.WriteFile(filepath.Join(dir, Key("k")+lookupSuffix), nil, 0o600)
		if foreign {
			os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
		}
		os.Chmod(dir, 0o755)
		_, err := Open(dir)
		fi, _ := os.Stat(dir)
		if foreign {
			if err == nil || !strings.Contains(err.Error(), "did not make") || fi.Mode().Perm() != 0o755 {
				t.Fatalf("foreign files: %v, mode %v", err, fi.Mode())
			}
		} else if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("own files: %v, mode %v", err, fi.Mode())
		}
	}
}

// BenchmarkOpen measures Open of an existing cache directory (every helper
// process does it once): the walk from / with openat and the checks.
func BenchmarkOpen(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "home", ".cache", "docker-credential-acr")
	if _, err := Open(dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		s.d.f.Close()
	}
}
