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
