//go:build unix

package cache

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestUnsafeDir(t *testing.T) {
	tests := []struct {
		name    string
		mode    os.FileMode
		chown   bool // chown to uid 65534 (needs root)
		wantErr string
	}{
		{"0700 ok", 0o700, false, ""},
		{"0750 tightened to 0700", 0o750, false, ""},
		{"0755 tightened to 0700", 0o755, false, ""},
		{"0711 tightened to 0700", 0o711, false, ""},
		{"0777 world-writable", 0o777, false, "chmod 700"},
		{"0770 group-writable", 0o770, false, "chmod 700"},
		{"0720 group-writable", 0o720, false, "chmod 700"},
		{"0702 world-writable", 0o702, false, "chmod 700"},
		{"1777 sticky world-writable", 0o777 | os.ModeSticky, false, "chmod 700"},
		{"other owner", 0o700, true, "owned by uid 65534"},
		{"other owner, world-writable", 0o777, true, "owned by uid 65534"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			if tt.chown {
				if os.Geteuid() != 0 {
					t.Skip("chown needs root")
				}
				if err := os.Chown(dir, 65534, 65534); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(dir)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.Dir() != dir {
					t.Fatalf("Dir = %s", s.Dir())
				}
				// A private-enough directory of ours is made 0700, as the README says.
				if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
					t.Fatalf("mode %v, want 0700", fi.Mode())
				}
				return
			}
			if s != nil || !errors.Is(err, errUnsafeDir) {
				t.Fatalf("Open = %v, %v; want errUnsafeDir", s, err)
			}
			var ue *unsafeDirError
			if !errors.As(err, &ue) || ue.Dir != dir {
				t.Fatalf("not an *unsafeDirError for %s: %#v", dir, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, dir) {
				t.Fatalf("error %q does not say %q about %s", msg, tt.wantErr, dir)
			}
			t.Logf("error text: %v", err)
			// Nothing was created in the unsafe directory and its mode is unchanged.
			if names := dirNames(t, dir); len(names) != 0 {
				t.Fatalf("files created: %v", names)
			}
			if fi, _ := os.Stat(dir); fi.Mode()&(os.ModePerm|os.ModeSticky) != tt.mode {
				t.Fatalf("mode changed to %v", fi.Mode())
			}
		})
	}
}

func TestOpenOddPaths(t *testing.T) {
	tmp := t.TempDir()
	safe := filepath.Join(tmp, "safe")
	unsafe := filepath.Join(tmp, "unsafe")
	file := filepath.Join(tmp, "file")
	os.Mkdir(safe, 0o700)
	os.Mkdir(unsafe, 0o700)
	os.Chmod(unsafe, 0o777)
	os.WriteFile(file, nil, 0o600)
	os.Symlink(safe, filepath.Join(tmp, "link-safe"))
	os.Symlink(unsafe, filepath.Join(tmp, "link-unsafe"))
	os.Symlink(file, filepath.Join(tmp, "link-file"))

	tests := []struct {
		name    string
		dir     string
		wantDir string
		unsafe  bool
		wantErr bool
	}{
		{"symlink to safe dir", filepath.Join(tmp, "link-safe"), safe, false, false},
		{"symlink to unsafe dir", filepath.Join(tmp, "link-unsafe"), "", true, true},
		{"regular file", file, "", false, true},
		{"symlink to file", filepath.Join(tmp, "link-file"), "", false, true},
		{"below a file", filepath.Join(file, "x"), "", false, true},
		{"empty", "", "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.dir)
			if (err != nil) != tt.wantErr || errors.Is(err, errUnsafeDir) != tt.unsafe {
				t.Fatalf("Open(%q) err = %v", tt.dir, err)
			}
			if err == nil && s.Dir() != tt.wantDir {
				t.Fatalf("Dir = %q, want %q", s.Dir(), tt.wantDir)
			}
		})
	}
}

// TestPermissions: with umask 0, the directory (and its created parents)
// is 0700 and entries, lookups and lock files are 0600.
func TestPermissions(t *testing.T) {
	root := t.TempDir() // before umask 0, or the test's own directory would be 0777
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(root, "a", "b", "cache")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := Key("h", "u")
	if _, _, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", time.Now(), time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLookup(key, "v", time.Hour); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want os.FileMode
	}{
		{filepath.Join(root, "a"), os.ModeDir | 0o700},
		{filepath.Join(root, "a", "b"), os.ModeDir | 0o700},
		{dir, os.ModeDir | 0o700},
		{s.path(key), 0o600},
		{s.path(key + lockSuffix), 0o600},
		{s.path(key + lookupSuffix), 0o600},
	}
	for _, tt := range tests {
		fi, err := os.Lstat(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tt.want {
			t.Errorf("%s: mode %v, want %v", tt.path, fi.Mode(), tt.want)
		}
	}
	if names := dirNames(t, dir); len(names) != 4 || names[0] != pruneName { // and the prune time
		t.Fatalf("unexpected files: %v", names)
	}
	if fi, err := os.Lstat(filepath.Join(dir, pruneName)); err != nil || fi.Mode() != 0o600 {
		t.Fatalf("%s: %v %v", pruneName, fi, err)
	}
}

// TestFIFOEntry: a FIFO in place of an entry does not block the reader
// (O_NONBLOCK) and is replaced.
func TestFIFOEntry(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("fifo")
	if err := unix.Mkfifo(s.path(key), 0o600); err != nil {
		t.Skip(err)
	}
	// A blocking open would hang here until the test binary's -timeout.
	_, src, _ := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", t0, time.Hour), nil
	})
	if src != SourceFetched {
		t.Fatal(src)
	}
	if fi, err := os.Lstat(s.path(key)); err != nil || !fi.Mode().IsRegular() {
		t.Fatal("FIFO not replaced", err)
	}
}

// TestUnreadableEntry: an entry the user cannot read is a miss.
func TestUnreadableEntry(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read any file")
	}
	s, _ := newTestStore(t)
	key := Key("k")
	mustPut(t, s, key, tok("h", "u", "s", t0, time.Hour))
	os.Chmod(s.path(key), 0)
	if _, ok := s.Get(key); ok {
		t.Fatal("unreadable entry hit")
	}
}

// TestSIGKILLTorture kills a writer process with SIGKILL at random points,
// up to 200 times. After every kill, and continuously during the writes, a
// reader must see a complete entry: the old or the new one, never a torn one.
func TestSIGKILLTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("starts many processes")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := Key("torture")
	mustPut(t, s, key, tortureEntry(0))

	// A concurrent reader checks every entry it sees.
	stop := make(chan struct{})
	var reads atomic.Int64
	var readerErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, maxEntrySize+1)
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, ok := s.d.readFileInto(key, buf)
			if !ok {
				readerErr.Store("entry missing or unreadable during writes")
				return
			}
			if _, err := checkTortureEntry(key, data); err != nil {
				readerErr.Store(err.Error())
				return
			}
			reads.Add(1)
		}
	}()
	defer func() { close(stop); wg.Wait() }()

	// At least minKills kills however slow the machine is, then up to
	// maxKills within the budget. Every tenth writer is killed only after it
	// has completed a write, so the entry is known to advance.
	const minKills, maxKills = 10, 200
	budget := 10 * time.Second
	start := time.Now()
	kills, advanced, last := 0, 0, 0
	temps := map[string]bool{}
	for kills < maxKills && (kills < minKills || time.Since(start) < budget) {
		cmd := helperCmd(t, "writer", envDir+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(out)
		if line, err := rd.ReadString('\n'); line != "READY\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("writer not ready: %q %v\n%s", line, err, stderr.String())
		}
		if kills%10 == 0 {
			if line, err := rd.ReadString('\n'); line != "WROTE\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("writer did not write: %q %v\n%s", line, err, stderr.String())
			}
		} else {
			time.Sleep(rand.N(3 * time.Millisecond)) // a random kill point, not an ordering
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("writer was not killed by SIGKILL: %v\n%s", err, stderr.String())
		}
		kills++

		data, err := os.ReadFile(s.path(key))
		if err != nil {
			t.Fatalf("kill %d: %v", kills, err)
		}
		seq, err := checkTortureEntry(key, data)
		if err != nil {
			t.Fatalf("kill %d: %v", kills, err)
		}
		if seq < last {
			t.Fatalf("kill %d: entry went back from %d to %d", kills, last, seq)
		}
		if seq > last {
			advanced++
		}
		last = seq
		for _, name := range dirNames(t, dir) {
			if strings.HasPrefix(name, tmpPrefix) {
				temps[name] = true
			}
		}
		if e := readerErr.Load(); e != nil {
			t.Fatalf("concurrent reader after %d kills: %v", kills, e)
		}
	}
	elapsed := time.Since(start)
	t.Logf("%d SIGKILLs in %v: %d entries written, %d kills advanced the entry, %d left a temporary file (killed mid-write), %d concurrent reads, all complete",
		kills, elapsed.Round(time.Millisecond), last, advanced, len(temps), reads.Load())
	if advanced == 0 {
		t.Fatal("the writers never wrote anything")
	}

	// Left-over temporary files are removed by a later prune once stale.
	past := time.Now().Add(-2 * staleTempAge)
	for name := range temps {
		os.Chtimes(s.path(name), past, past)
	}
	mustPut(t, s, key, tortureEntry(last+1))
	os.Remove(s.path(pruneName))
	s.maybePrune()
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, tmpPrefix) {
			t.Fatalf("stale temporary file %s not cleaned", name)
		}
	}
}

// TestFIFOEraseLog: a FIFO in place of the erase log blocks neither a
// logout nor a fetch.
func TestFIFOEraseLog(t *testing.T) {
	s, _ := newTestStore(t)
	if err := unix.Mkfifo(s.path(eraseLogName), 0o600); err != nil {
		t.Skip(err)
	}
	key := Key("k")
	// A blocking open would hang here until the test binary's -timeout.
	if _, _, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", t0, time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(key); err == nil || fileExists(s.path(key)) {
		t.Fatalf("Remove with a FIFO as the erase log: %v", err)
	}
}
