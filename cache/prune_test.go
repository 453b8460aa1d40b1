package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPruneRemovesLongExpiredEntries(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old, recent, live := Key("old"), Key("recent"), Key("live")
	for k, exp := range map[string]time.Time{old: now.Add(-48 * time.Hour), recent: now.Add(-time.Hour), live: now.Add(time.Hour)} {
		if err := s.put(k, Entry{Host: "h", Username: "u", Secret: "s", ExpiresAt: exp, FetchedAt: exp.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.prune(); n != 1 {
		t.Errorf("pruned %d, want 1", n)
	}
	for k, want := range map[string]bool{old: false, recent: true, live: true} {
		_, err := os.Stat(filepath.Join(s.Dir(), k))
		if (err == nil) != want {
			t.Errorf("%s present=%v, want %v", k[:8], err == nil, want)
		}
	}
}

// TestPruneRemovesExpiredLookups: lookups that expired more than a day ago
// go (one from 2022 among them); live and recently expired ones stay.
func TestPruneRemovesExpiredLookups(t *testing.T) {
	s, clk := newTestStore(t)
	y2022 := time.Date(2022, 3, 4, 5, 6, 7, 0, time.UTC)
	lookups := []struct {
		name    string
		written time.Time
		ttl     time.Duration
		keep    bool
	}{
		{"expired in 2022", y2022, time.Hour, false},
		{"expired two days ago", t0.Add(-49 * time.Hour), time.Hour, false},
		{"expired an hour ago", t0.Add(-2 * time.Hour), time.Hour, true},
		{"live", t0, time.Hour, true},
	}
	for _, l := range lookups {
		clk.Set(l.written)
		if err := s.PutLookup(Key(l.name), l.name, l.ttl); err != nil {
			t.Fatal(err)
		}
	}
	clk.Set(t0)
	s.prune()
	for _, l := range lookups {
		_, err := os.Lstat(s.path(Key(l.name) + lookupSuffix))
		if (err == nil) != l.keep {
			t.Errorf("%s: present=%v, want %v", l.name, err == nil, l.keep)
		}
	}
}

// TestPruneNeverDeletesAHeldLock: another process holds the lock of a key
// whose entry expired long ago. Prune must leave the lock file alone, or a
// third process would create a new lock file and hold "the" lock too.
func TestPruneNeverDeletesAHeldLock(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("held")
	mustPut(t, s, key, tok("h", "u", "s", t0.Add(-72*time.Hour), time.Hour))
	holdLock(t, s, key) // the other process, mid-fetch
	s.prune()
	if _, err := os.Lstat(s.path(key + lockSuffix)); err != nil {
		t.Fatalf("held lock file deleted: %v", err)
	}
	third, err := openLock(s.d, key+lockSuffix)
	if err != nil {
		t.Fatal(err)
	}
	defer third.close()
	if got, err := third.tryLock(); got || err != nil {
		t.Fatalf("a third process took the lock while it is held: %v %v", got, err)
	}
}
