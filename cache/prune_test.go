package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// TestPrunedLockIsTakenAgain: a waiter holds an open lock file that prune
// removes (while holding its lock, the entry being long gone), and a new
// fetcher locks the new file of that name. When the waiter then gets the
// old, unlinked file's lock, it must notice and wait on the new one instead
// of fetching alongside the new holder.
func TestPrunedLockIsTakenAgain(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("k")
	first := holdLock(t, s, key)
	var second *fileLock
	waits := 0
	s.waitHook = func(context.Context) {
		waits++
		switch waits {
		case 1: // the first holder finishes; prune removes the idle lock file
			first.close()
			if !s.pruneKey(key, t0) && fileExists(s.path(key+lockSuffix)) {
				t.Error("prune kept the idle lock file")
			}
			second = holdLock(t, s, key) // a new fetcher: a new lock file
		case 3: // the new holder writes its token
			mustPut(t, s, key, tok("h", "u", "second", t0, time.Hour))
		}
	}
	e, src, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		t.Error("fetch called while another process holds the lock")
		return Entry{}, errors.New("no")
	})
	if err != nil || src != SourceCache || e.Secret != "second" || second == nil {
		t.Fatal(e, src, err)
	}
}

// TestPruneLockFiles: the lock file of a live or recently expired entry, and
// a young lock file, stay; the lock file of a long-expired entry and an old
// lock file without entry go.
func TestPruneLockFiles(t *testing.T) {
	s, _ := newTestStore(t)
	old := t0.Add(-48 * time.Hour)
	cases := []struct {
		name    string
		entry   *Entry
		lockAge time.Time
		keep    bool
	}{
		{"live entry", &Entry{Host: "h", Secret: "s", ExpiresAt: t0.Add(time.Hour)}, old, true},
		{"recently expired entry", &Entry{Host: "h", Secret: "s", ExpiresAt: t0.Add(-time.Hour)}, old, true},
		{"long expired entry", &Entry{Host: "h", Secret: "s", ExpiresAt: old}, old, false},
		{"no entry, old lock", nil, old, false},
		{"no entry, young lock", nil, t0.Add(-time.Hour), true},
	}
	for _, c := range cases {
		key := Key(c.name)
		if c.entry != nil {
			mustPut(t, s, key, *c.entry)
		}
		lk, err := openLock(s.d, key+lockSuffix)
		if err != nil {
			t.Fatal(err)
		}
		lk.close()
		if err := os.Chtimes(s.path(key+lockSuffix), c.lockAge, c.lockAge); err != nil {
			t.Fatal(err)
		}
	}
	s.prune()
	for _, c := range cases {
		if got := fileExists(s.path(Key(c.name) + lockSuffix)); got != c.keep {
			t.Errorf("%s: lock present=%v, want %v", c.name, got, c.keep)
		}
	}
}

// TestPruneFigures: 1,000 workloads each leave a token entry, a lookup and a
// lock file; two days later one fetch prunes them all.
func TestPruneFigures(t *testing.T) {
	s, clk := newTestStore(t)
	const n = 1000
	// The files a fetch and a lookup leave, written directly (fast).
	for i := range n {
		key := Key("sa-token", strconv.Itoa(i))
		entry := mustEncode(t, key, tok("h", "u", strings.Repeat("t", 1500), t0, time.Hour))
		lookup, err := encodeLookup(key+lookupSuffix, "instance", t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{key: entry, key + lookupSuffix: lookup, key + lockSuffix: nil} {
			if err := os.WriteFile(s.path(name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, bytes := dirUsage(t, s.Dir())
	clk.Set(t0.Add(49 * time.Hour))
	if _, _, err := s.GetOrFetch(context.Background(), Key("today"), "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", t0.Add(49*time.Hour), time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	files2, bytes2 := dirUsage(t, s.Dir())
	t.Logf("%d keys: %d files, %d bytes before; after one prune two days later: %d files, %d bytes", n, files, bytes, files2, bytes2)
	// Left: today's entry, its lock and the prune time.
	if files != 3*n || files2 != 3 {
		t.Fatalf("files %d before (want %d), %d after (want 3): %v", files, 3*n, files2, dirNames(t, s.Dir()))
	}
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// dirUsage counts the files in dir and their bytes.
func dirUsage(tb testing.TB, dir string) (files int, size int64) {
	tb.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			tb.Fatal(err)
		}
		files++
		size += fi.Size()
	}
	return files, size
}

// TestPruneAtMostHourly: a fetch runs prune when it has not run for an hour.
func TestPruneAtMostHourly(t *testing.T) {
	s, clk := newTestStore(t)
	fetch := func(context.Context) (Entry, error) { return tok("h", "u", "s", clk.Now(), time.Hour), nil }
	gone := Key("gone")
	for _, step := range []struct {
		at        time.Time
		wantGone  bool
		fetchedAt string
	}{
		{t0, true, "first fetch prunes"},
		{t0.Add(30 * time.Minute), false, "half an hour later: no prune"},
		{t0.Add(61 * time.Minute), true, "an hour later: prune"},
	} {
		clk.Set(step.at)
		mustPut(t, s, gone, tok("h", "u", "s", step.at.Add(-50*time.Hour), time.Hour))
		if _, _, err := s.GetOrFetch(context.Background(), Key(step.fetchedAt), "h", time.Minute, fetch); err != nil {
			t.Fatal(err)
		}
		if got := !fileExists(s.path(gone)); got != step.wantGone {
			t.Errorf("%s: pruned=%v", step.fetchedAt, got)
		}
	}
}

// Issue 20 §3: a Lasting entry (a KMS-held password, which keeps working) goes at expiry: the
// first run of the helper after that removes it, a cached get of another key included, while
// an expired token stays its day. Its own key's next fetch removes it even when that fetch fails.
func TestLastingEntriesGoAtExpiry(t *testing.T) {
	s, clk := newTestStore(t)
	lasting, token, other := Key("lasting"), Key("token"), Key("other")
	fetch := func(e Entry) func(context.Context) (Entry, error) {
		return func(context.Context) (Entry, error) { return e, nil }
	}
	pw := tok("docker.io", "u", "kms-password", t0, time.Minute)
	pw.Lasting = true
	for _, f := range []struct {
		key string
		e   Entry
	}{{lasting, pw}, {token, tok("h", "u", "registry-token", t0, time.Minute)}, {other, tok("o", "u", "o", t0, 12*time.Hour)}} {
		if _, src, err := s.GetOrFetch(context.Background(), f.key, f.e.Host, 0, fetch(f.e)); err != nil || src != SourceFetched {
			t.Fatal(src, err)
		}
	}
	if e, ok := s.readToken(lasting, ""); !ok || !e.Lasting {
		t.Fatalf("the lasting entry reads back as %v %v", e, ok)
	}
	clk.Set(t0.Add(61 * time.Second))
	if _, src, err := s.GetOrFetch(context.Background(), other, "o", 5*time.Minute, fetch(Entry{})); err != nil || src != SourceCache {
		t.Fatal(src, err)
	}
	if _, err := os.Lstat(s.path(lasting)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the expired KMS password is still on disk: %v", err)
	}
	if _, err := os.Lstat(s.path(token)); err != nil {
		t.Errorf("an expired registry token went before its day: %v", err)
	}
	if _, err := os.Lstat(s.path(lastingDueName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the due file stays with no lasting entry left: %v", err)
	}

	// The key's own get, its fetch failing: the expired password goes too.
	clk.Set(t0)
	if _, _, err := s.GetOrFetch(context.Background(), lasting, "docker.io", 0, fetch(pw)); err != nil {
		t.Fatal(err)
	}
	s.d.remove(lastingDueName) // as if written by a process that lost the race to record it
	clk.Set(t0.Add(2 * time.Minute))
	if _, src, err := s.GetOrFetch(context.Background(), lasting, "docker.io", 0, func(context.Context) (Entry, error) {
		return Entry{}, errors.New("KMS down")
	}); err == nil || src != SourceNone {
		t.Fatalf("%v %v", src, err)
	}
	if _, err := os.Lstat(s.path(lasting)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a failed fetch, the expired KMS password is still on disk: %v", err)
	}
}
