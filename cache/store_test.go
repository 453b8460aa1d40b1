package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPutGet(t *testing.T) {
	s, clk := newTestStore(t)
	key := Key("reg.example", "user")
	e := tok("reg.example", "user", "pa$$", t0.Add(-time.Minute), time.Hour)
	mustPut(t, s, key, e)
	got, ok := s.Get(key)
	if !ok || !sameEntry(got, e) {
		t.Fatalf("Get = %v %v, want %v", got, ok, e)
	}
	clk.Set(e.ExpiresAt)
	if _, ok := s.Get(key); ok {
		t.Fatal("expired entry served by Get")
	}
	for _, name := range dirNames(t, s.Dir()) {
		if strings.HasPrefix(name, tmpPrefix) {
			t.Fatalf("temporary file left behind: %s", name)
		}
	}
	tests := []struct {
		name string
		key  string
		e    Entry
	}{
		{"bad key", "../x", e},
		{"no host", key, tok("", "u", "s", t0, time.Hour)},
		{"no expiry", key, Entry{Host: "h", Secret: "s"}},
		{"year 10000", key, tok("h", "u", "s", time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC), 2*time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.put(tt.key, tt.e); err == nil {
				t.Fatal("Put succeeded")
			} else if strings.Contains(err.Error(), tt.e.Secret+"\"") {
				t.Fatalf("error contains the secret: %v", err)
			}
		})
	}
}

func TestNilStore(t *testing.T) {
	var s *Store
	calls := 0
	for i := 0; i < 2; i++ {
		e, src, err := s.GetOrFetch(context.Background(), "not even a key", "h", time.Minute, func(context.Context) (Entry, error) {
			calls++
			return Entry{Username: "u", Secret: "s", ExpiresAt: time.Now().Add(time.Hour)}, nil
		})
		if err != nil || src != SourceFetched || e.Host != "h" || e.FetchedAt.IsZero() {
			t.Fatal(e, src, err)
		}
	}
	if calls != 2 {
		t.Fatalf("%d fetches", calls)
	}
	errX := errors.New("x")
	if _, src, err := s.GetOrFetch(context.Background(), "", "h", 0, func(context.Context) (Entry, error) { return Entry{}, errX }); src != SourceNone || err != errX {
		t.Fatal(src, err)
	}
	if _, ok := s.Get(Key("a")); ok {
		t.Fatal("Get hit")
	}
	var v string
	if s.GetLookup(Key("a"), &v) || s.PutLookup(Key("a"), "x", time.Hour) != nil || s.put(Key("a"), Entry{}) != nil {
		t.Fatal("nil store lookups")
	}
	if l, err := s.List(); l != nil || err != nil {
		t.Fatal(l, err)
	}
	if n, err := s.RemoveHost("h"); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	if s.Dir() != "" {
		t.Fatal(s.Dir())
	}
}

func TestLookups(t *testing.T) {
	type instance struct {
		ID     string `json:"id"`
		Region string `json:"region"`
	}
	s, clk := newTestStore(t)
	key := Key("instance", "my-registry")
	want := instance{"cri-123", "cn-hangzhou"}
	if err := s.PutLookup(key, want, time.Hour); err != nil {
		t.Fatal(err)
	}
	var got instance
	if !s.GetLookup(key, &got) || got != want {
		t.Fatalf("GetLookup = %v", got)
	}
	// Lookups and tokens under one key never mix.
	if _, ok := s.Get(key); ok {
		t.Fatal("lookup visible as token")
	}
	mustPut(t, s, key, tok("h", "u", "s", t0, 2*time.Hour))
	if !s.GetLookup(key, &got) || got != want {
		t.Fatal("token overwrote lookup")
	}
	// A token file copied to the lookup's place is not a lookup, and vice versa.
	tokData, _ := os.ReadFile(s.path(key))
	lkData, _ := os.ReadFile(s.path(key + lookupSuffix))
	k2 := Key("swapped")
	os.WriteFile(s.path(k2+lookupSuffix), tokData, 0o600)
	os.WriteFile(s.path(k2), lkData, 0o600)
	if s.GetLookup(k2, &got) {
		t.Fatal("token decoded as lookup")
	}
	if _, ok := s.Get(k2); ok {
		t.Fatal("lookup decoded as token")
	}
	// Type mismatch, expiry, corruption, bad arguments.
	var n int
	if s.GetLookup(key, &n) {
		t.Fatal("struct decoded into int")
	}
	clk.Set(t0.Add(time.Hour))
	if s.GetLookup(key, &got) {
		t.Fatal("expired lookup served")
	}
	os.WriteFile(s.path(key+lookupSuffix), lkData[:len(lkData)-3], 0o600)
	clk.Set(t0)
	if s.GetLookup(key, &got) {
		t.Fatal("truncated lookup served")
	}
	if err := s.PutLookup(key, want, 0); err == nil {
		t.Fatal("ttl 0 accepted")
	}
	if err := s.PutLookup("bad", want, time.Hour); err == nil {
		t.Fatal("bad key accepted")
	}
	if err := s.PutLookup(key, func() {}, time.Hour); err == nil {
		t.Fatal("unencodable value accepted")
	}
	if s.GetLookup(Key("missing"), &got) {
		t.Fatal("missing lookup hit")
	}
}

func TestListAndRemoveHost(t *testing.T) {
	s, _ := newTestStore(t)
	entries := map[string]Entry{
		Key("a", "2"): tok("a.example", "user2", "s1", t0, time.Hour),
		Key("a", "1"): tok("a.example", "user1", "s2", t0, time.Hour),
		Key("a", "x"): tok("a.example", "expired", "s3", t0.Add(-2*time.Hour), time.Hour),
		Key("b", "1"): tok("b.example", "user1", "s4", t0, time.Hour),
	}
	for k, e := range entries {
		mustPut(t, s, k, e)
	}
	if err := s.PutLookup(Key("a", "lookup"), "a.example", time.Hour); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(s.path(Key("corrupt")), []byte(`{"host":"a.example"`), 0o600)
	os.WriteFile(s.path(tmpPrefix+"x"), []byte(`junk`), 0o600)
	holdLock(t, s, Key("a", "1"))

	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		if e.Secret != "" {
			t.Fatalf("List returned a secret for %s", e.Host)
		}
		got = append(got, e.Host+"/"+e.Username)
	}
	if want := "[a.example/user1 a.example/user2 b.example/user1]"; fmt.Sprint(got) != want {
		t.Fatalf("List = %v, want %v", got, want)
	}

	tests := []struct {
		host string
		want int
	}{
		{"", 0},
		{"c.example", 0},
		{"A.Example", 3}, // both users and the expired entry
		{"a.example", 0},
		{"b.example", 1},
	}
	for _, tt := range tests {
		n, err := s.RemoveHost(tt.host)
		if err != nil || n != tt.want {
			t.Fatalf("RemoveHost(%q) = %d, %v; want %d", tt.host, n, err, tt.want)
		}
	}
	names := dirNames(t, s.Dir())
	// Left: the held lock, the lookup, the corrupt file, the temporary file,
	// and the erase log that RemoveHost wrote.
	want := []string{Key("a", "1") + lockSuffix, Key("a", "lookup") + lookupSuffix, Key("corrupt"), tmpPrefix + "x", eraseLogName}
	for _, w := range want {
		found := false
		for _, n := range names {
			found = found || n == w
		}
		if !found {
			t.Errorf("%s removed; left %v", w, names)
		}
	}
	if len(names) != len(want) {
		t.Fatalf("left %v, want %v", names, want)
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Fatalf("List after erase = %v", list)
	}
}

func TestRemoveKey(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := Key("a")
	if err := s.put(k, Entry{Host: "h", Username: "u", Secret: "s", ExpiresAt: farFuture(), FetchedAt: farFuture().Add(-1)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Remove(k); !ok || err != nil {
		t.Fatalf("Remove: %v %v", ok, err)
	}
	if _, ok := s.Get(k); ok {
		t.Error("entry still there")
	}
	if ok, _ := s.Remove(k); ok {
		t.Error("second Remove found it")
	}
	if ok, _ := s.Remove("../etc/passwd"); ok {
		t.Error("not a key")
	}
}

func farFuture() time.Time { return time.Now().Add(24 * time.Hour) }

func TestStaleTempCleanup(t *testing.T) {
	s, _ := newTestStore(t)
	old := s.path(tmpPrefix + "old")
	recent := s.path(tmpPrefix + "recent")
	other := s.path("unrelated-old")
	for _, p := range []string{old, recent, other} {
		os.WriteFile(p, []byte("x"), 0o600)
	}
	past := time.Now().Add(-2 * staleTempAge)
	for _, p := range []string{old, other} {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	// Cleaned by prune, which runs after a fetch (at most every pruneEvery), not by every write.
	if _, _, err := s.GetOrFetch(context.Background(), Key("k"), "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", t0, time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale temp file not removed")
	}
	for _, p := range []string{recent, other} {
		if _, err := os.Lstat(p); err != nil {
			t.Fatalf("%s removed: %v", p, err)
		}
	}
}

// TestColdFetchMakesNoFsync: a cold fetch (entry, lookup, the first prune's
// marker) writes its files without fsync, the cost of which a cold get paid
// on every call; the login store, the only copy of what the user gave, still
// fsyncs the file and the directory.
func TestColdFetchMakesNoFsync(t *testing.T) {
	s, _ := newTestStore(t)
	var syncs []string
	s.syncHook = func(name string) { syncs = append(syncs, name) }
	if _, _, err := s.GetOrFetch(context.Background(), Key("k"), "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", t0, time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLookup(Key("k"), "instance", time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 0 {
		t.Fatalf("a cold fetch fsynced %q", syncs)
	}
	if _, err := os.Lstat(s.path(pruneName)); err != nil {
		t.Fatalf("the first fetch did not prune: %v", err)
	}
	if e, ok := s.Get(Key("k")); !ok || e.Secret != "s" {
		t.Fatalf("entry %v %v", e, ok)
	}
	l, err := OpenLoginsDir(filepath.Join(t.TempDir(), "logins"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Put("a.example.com", "u", "p1"); err != nil {
		t.Fatal(err)
	}
	l.s.syncHook = func(name string) { syncs = append(syncs, name) }
	if err := l.Put("a.example.com", "u", "p2"); err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 2 || syncs[0] != loginName("a.example.com") || syncs[1] != "." {
		t.Fatalf("login store: syncs %q, want the file and its directory", syncs)
	}
}
