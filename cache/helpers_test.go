package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// t0 is the fake "now" of most tests.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// newTestStore opens a store in a fresh temporary directory with a fake
// clock at t0.
func newTestStore(tb testing.TB) (*Store, *fakeClock) {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "cache"))
	if err != nil {
		tb.Fatal(err)
	}
	clk := &fakeClock{t: t0}
	s.Now = clk.Now
	s.onError = func(err error) { tb.Logf("cache onError: %v", err) }
	return s, clk
}

// tok returns a token for host valid from fetched for life.
func tok(host, user, secret string, fetched time.Time, life time.Duration) Entry {
	return Entry{Host: host, Username: user, Secret: secret, FetchedAt: fetched, ExpiresAt: fetched.Add(life)}
}

func mustPut(tb testing.TB, s *Store, key string, e Entry) {
	tb.Helper()
	if err := s.put(key, e); err != nil {
		tb.Fatal(err)
	}
}

func mustEncode(tb testing.TB, name string, e Entry) []byte {
	tb.Helper()
	b, err := encodeEntry(name, e)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// dirNames lists the directory, sorted.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// snapshot records a file's bytes and modification time.
type snapshot struct {
	data []byte
	mod  time.Time
}

func snap(tb testing.TB, path string) snapshot {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return snapshot{data, fi.ModTime()}
}

func (a snapshot) equal(b snapshot) bool {
	return bytes.Equal(a.data, b.data) && a.mod.Equal(b.mod)
}

func sameEntry(a, b Entry) bool {
	return a.Host == b.Host && a.Username == b.Username && a.Secret == b.Secret &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.FetchedAt.Equal(b.FetchedAt)
}
