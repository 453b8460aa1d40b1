package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		same bool
	}{
		{"deterministic", []string{"host", "user"}, []string{"host", "user"}, true},
		{"boundary moves", []string{"ab", "c"}, []string{"a", "bc"}, false},
		{"empty part counts", []string{"a"}, []string{"a", ""}, false},
		{"no parts vs one empty part", nil, []string{""}, false},
		{"order matters", []string{"a", "b"}, []string{"b", "a"}, false},
		{"separator inside part", []string{"a\x00b"}, []string{"a", "b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := Key(tt.a...), Key(tt.b...)
			if !isKey(ka) || !isKey(kb) {
				t.Fatalf("not a key: %q %q", ka, kb)
			}
			if (ka == kb) != tt.same {
				t.Fatalf("Key(%q)=%s Key(%q)=%s, want same=%v", tt.a, ka, tt.b, kb, tt.same)
			}
		})
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("a", 63) + "g", "../" + strings.Repeat("a", 61), strings.Repeat("a", 65)} {
		if isKey(bad) {
			t.Errorf("isKey(%q) = true", bad)
		}
	}
}

func TestFresh(t *testing.T) {
	const th = 5 * time.Minute
	long := tok("h", "u", "s", t0, 12*time.Hour)    // normal rule
	short := tok("h", "u", "s", t0, 6*time.Minute)  // life < 2×th: half-life rule
	exact := tok("h", "u", "s", t0, 10*time.Minute) // life == 2×th: both rules agree
	noFetched := long
	noFetched.FetchedAt = time.Time{}
	noExpiry := long
	noExpiry.ExpiresAt = time.Time{}
	skew := tok("h", "u", "s", t0.Add(time.Hour), time.Hour) // fetched "in the future", expires at t0+2h

	tests := []struct {
		name       string
		e          Entry
		now        time.Time
		threshold  time.Duration
		fresh      bool
		valid      bool
		wantCached bool
	}{
		{"long: just fetched", long, t0, th, true, true, true},
		{"long: 1ns before boundary", long, long.ExpiresAt.Add(-th - 1), th, true, true, true},
		{"long: exactly at boundary", long, long.ExpiresAt.Add(-th), th, false, true, false},
		{"long: inside threshold", long, long.ExpiresAt.Add(-time.Minute), th, false, true, false},
		{"long: 1ns before expiry", long, long.ExpiresAt.Add(-1), th, false, true, false},
		{"long: exactly at expiry", long, long.ExpiresAt, th, false, false, false},
		{"long: expired", long, long.ExpiresAt.Add(time.Hour), th, false, false, false},
		{"long: threshold 0 until expiry", long, long.ExpiresAt.Add(-1), 0, true, true, true},
		{"long: negative threshold is 0", long, long.ExpiresAt.Add(-1), -time.Hour, true, true, true},
		{"long: huge threshold, half-life rule", long, t0.Add(6*time.Hour - 1), math.MaxInt64, true, true, true},
		{"long: huge threshold, past half", long, t0.Add(6 * time.Hour), math.MaxInt64, false, true, false},
		{"short: just fetched", short, t0, th, true, true, true},
		{"short: 1ns before half-life", short, t0.Add(3*time.Minute - 1), th, true, true, true},
		{"short: exactly at half-life", short, t0.Add(3 * time.Minute), th, false, true, false},
		{"short: after half-life", short, t0.Add(5 * time.Minute), th, false, true, false},
		{"short: expired", short, t0.Add(6 * time.Minute), th, false, false, false},
		{"2×threshold: 1ns before half", exact, t0.Add(5*time.Minute - 1), th, true, true, true},
		{"2×threshold: at half", exact, t0.Add(5 * time.Minute), th, false, true, false},
		{"no FetchedAt: normal rule", noFetched, noFetched.ExpiresAt.Add(-th - 1), th, true, true, true},
		{"no FetchedAt: at boundary", noFetched, noFetched.ExpiresAt.Add(-th), th, false, true, false},
		{"no ExpiresAt: never valid", noExpiry, t0, th, false, false, false},
		{"clock before FetchedAt", skew, t0, th, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Fresh(tt.now, tt.threshold); got != tt.fresh {
				t.Errorf("Fresh = %v, want %v", got, tt.fresh)
			}
			if got := tt.e.Valid(tt.now); got != tt.valid {
				t.Errorf("Valid = %v, want %v", got, tt.valid)
			}
			// The same decision through the store: a hit iff fresh; a valid
			// but not fresh entry is refreshed; an expired one is never served.
			s, clk := newTestStore(t)
			clk.Set(tt.now)
			key := Key(tt.name)
			if !tt.e.ExpiresAt.IsZero() {
				mustPut(t, s, key, tt.e)
			}
			fetched := tok("h", "u", "new", tt.now, 24*time.Hour)
			got, src, err := s.GetOrFetch(context.Background(), key, "h", tt.threshold, func(context.Context) (Entry, error) {
				return fetched, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if (src == SourceCache) != tt.wantCached {
				t.Fatalf("source = %v, want cached=%v", src, tt.wantCached)
			}
			if !got.Valid(tt.now) {
				t.Fatalf("GetOrFetch served an invalid token: %v", got)
			}
		})
	}
}

// TestCorruptEntries: anything that is not a complete current-version token
// entry is a miss, is replaced by the next fetch, and leaves the neighbour
// untouched.
func TestCorruptEntries(t *testing.T) {
	valid := mustEncode(t, tok("reg.example", "u", "old-secret", t0, time.Hour))
	withField := func(field string, v any) []byte {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	big := withField("username", strings.Repeat("u", maxEntrySize))
	lookup, err := encodeLookup("x", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, valid, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		content []byte // written as the entry file unless symlink is set
		symlink string // make the entry a symlink to this target
	}{
		{"empty", []byte{}, ""},
		{"not json", []byte("hello"), ""},
		{"binary", []byte{0, 1, 2, 0xff, '{'}, ""},
		{"truncated half", valid[:len(valid)/2], ""},
		{"truncated by one byte", valid[:len(valid)-1], ""},
		{"trailing garbage", append(append([]byte{}, valid...), "x"...), ""},
		{"two objects", append(append([]byte{}, valid...), valid...), ""},
		{"foreign version", withField("v", 2), ""},
		{"no version", withField("v", nil), ""},
		{"version as string", withField("v", "1"), ""},
		{"kind lookup", withField("kind", "lookup"), ""},
		{"no kind", withField("kind", nil), ""},
		{"no host", withField("host", nil), ""},
		{"no secret", withField("secret", nil), ""},
		{"no expiry", withField("expiresAt", nil), ""},
		{"bad expiry", withField("expiresAt", "tomorrow"), ""},
		{"json null", []byte("null"), ""},
		{"json array", []byte("[]"), ""},
		{"a lookup entry", lookup, ""},
		{"oversize", big, ""},
		{"symlink to valid entry", nil, outside},
		{"dangling symlink", nil, filepath.Join(t.TempDir(), "missing")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			neighbour := Key("neighbour")
			mustPut(t, s, neighbour, tok("reg.example", "n", "n-secret", t0, time.Hour))
			before := snap(t, s.path(neighbour))
			outsideBefore := snap(t, outside)

			key := Key("reg.example", "u")
			p := s.path(key)
			if tt.symlink != "" {
				if err := os.Symlink(tt.symlink, p); err != nil {
					t.Skip("symlinks unsupported:", err)
				}
			} else if err := os.WriteFile(p, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}

			if e, ok := s.Get(key); ok {
				t.Fatalf("Get = %v, want miss", e)
			}
			if _, ok := s.readToken(key, ""); ok {
				t.Fatal("readToken hit")
			}
			calls := 0
			want := tok("reg.example", "u", "new-secret", t0, time.Hour)
			got, src, err := s.GetOrFetch(context.Background(), key, "reg.example", time.Minute, func(context.Context) (Entry, error) {
				calls++
				return want, nil
			})
			if err != nil || src != SourceFetched || calls != 1 || !sameEntry(got, want) {
				t.Fatalf("GetOrFetch = %v, %v, %v after %d fetches", got, src, err, calls)
			}
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("entry not replaced by a regular file: %v %v", fi, err)
			}
			if e, ok := s.Get(key); !ok || !sameEntry(e, want) {
				t.Fatalf("after replacement Get = %v, %v", e, ok)
			}
			if after := snap(t, s.path(neighbour)); !before.equal(after) {
				t.Fatal("neighbour entry changed")
			}
			if after := snap(t, outside); !outsideBefore.equal(after) {
				t.Fatal("symlink target was written through")
			}
		})
	}
}

func TestEntrySizeLimit(t *testing.T) {
	s, _ := newTestStore(t)
	base := tok("reg.example", "", "secret", t0, time.Hour)
	overhead := len(mustEncode(t, base))
	tests := []struct {
		name string
		size int
		hit  bool
	}{
		{"exactly 64 KiB", maxEntrySize, true},
		{"64 KiB + 1", maxEntrySize + 1, false},
		{"small", overhead, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			e.Username = strings.Repeat("u", tt.size-overhead)
			var data []byte
			if tt.hit {
				data = mustEncode(t, e)
			} else {
				// encodeEntry refuses; write it as a foreign writer would.
				if _, err := encodeEntry(e); err == nil {
					t.Fatal("encodeEntry accepted an oversize entry")
				}
				f := tokenFile{V: formatVersion, Kind: kindToken, Host: e.Host, Username: e.Username, Secret: e.Secret, ExpiresAt: e.ExpiresAt, FetchedAt: e.FetchedAt}
				data, _ = json.Marshal(f)
			}
			if len(data) != tt.size {
				t.Fatalf("built %d bytes, want %d", len(data), tt.size)
			}
			key := Key(tt.name)
			if err := os.WriteFile(s.path(key), data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Get(key); ok != tt.hit {
				t.Fatalf("hit = %v, want %v", ok, tt.hit)
			}
		})
	}
	// Put refuses an oversize entry, without naming the secret.
	secret := strings.Repeat("S", maxEntrySize)
	err := s.Put(Key("big"), tok("reg.example", "u", secret, t0, time.Hour))
	if err == nil || strings.Contains(err.Error(), "SSSS") {
		t.Fatalf("Put oversize: %v", err)
	}
}

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
			if err := s.Put(tt.key, tt.e); err == nil {
				t.Fatal("Put succeeded")
			} else if strings.Contains(err.Error(), tt.e.Secret+"\"") {
				t.Fatalf("error contains the secret: %v", err)
			}
		})
	}
}

func TestGetOrFetch(t *testing.T) {
	const host = "reg.example"
	const th = 5 * time.Minute
	errFetch := errors.New("fetch failed")
	fresh := tok(host, "u", "cached", t0.Add(-time.Minute), time.Hour)
	agingValid := tok(host, "u", "aging", t0.Add(-58*time.Minute), time.Hour) // 2 min left
	expired := tok(host, "u", "expired", t0.Add(-2*time.Hour), time.Hour)
	newTok := tok(host, "u", "new", t0, time.Hour)

	tests := []struct {
		name      string
		stored    *Entry
		fetched   Entry
		fetchErr  error
		wantSrc   Source
		wantTok   string // secret of the returned entry, "" for none
		wantErr   error
		wantCalls int
		wantStore string // secret stored afterwards, "" for none
	}{
		{"cold", nil, newTok, nil, SourceFetched, "new", nil, 1, "new"},
		{"fresh hit", &fresh, newTok, nil, SourceCache, "cached", nil, 0, "cached"},
		{"aging refreshed", &agingValid, newTok, nil, SourceFetched, "new", nil, 1, "new"},
		{"expired refreshed", &expired, newTok, nil, SourceFetched, "new", nil, 1, "new"},
		{"aging, fetch fails: stale", &agingValid, Entry{}, errFetch, SourceStale, "aging", errFetch, 1, "aging"},
		{"expired, fetch fails: error", &expired, Entry{}, errFetch, SourceNone, "", errFetch, 1, "expired"},
		{"cold, fetch fails", nil, Entry{}, errFetch, SourceNone, "", errFetch, 1, ""},
		{"fetched already expired", nil, expired, nil, SourceNone, "", nil, 1, ""},
		{"fetched expired, stale served", &agingValid, expired, nil, SourceStale, "aging", nil, 1, "aging"},
		{"host filled in", nil, Entry{Username: "u", Secret: "new", ExpiresAt: t0.Add(time.Hour)}, nil, SourceFetched, "new", nil, 1, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			key := Key(host, "u")
			if tt.stored != nil {
				mustPut(t, s, key, *tt.stored)
			}
			calls := 0
			got, src, err := s.GetOrFetch(context.Background(), key, host, th, func(context.Context) (Entry, error) {
				calls++
				return tt.fetched, tt.fetchErr
			})
			if src != tt.wantSrc || calls != tt.wantCalls || got.Secret != tt.wantTok {
				t.Fatalf("got %v %v (secret %q) after %d fetches; want %v %q after %d", got, src, got.Secret, calls, tt.wantSrc, tt.wantTok, tt.wantCalls)
			}
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && (tt.wantSrc == SourceNone || tt.wantSrc == SourceStale) && err == nil:
				t.Fatal("no error")
			case tt.wantErr == nil && tt.wantSrc != SourceNone && tt.wantSrc != SourceStale && err != nil:
				t.Fatalf("err = %v", err)
			}
			if tt.wantTok != "" {
				if got.Host != host || got.FetchedAt.IsZero() || !got.Valid(t0) {
					t.Fatalf("returned entry %v", got)
				}
			} else if got != (Entry{}) {
				t.Fatalf("returned %v with %v", got, src)
			}
			stored, _ := s.readToken(key, "")
			if stored.Secret != tt.wantStore {
				t.Fatalf("stored %q, want %q", stored.Secret, tt.wantStore)
			}
		})
	}
}

// TestHitPathTouchesNothing: a fresh hit creates no lock file, writes
// nothing and does not call fetch.
func TestHitPathTouchesNothing(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	mustPut(t, s, key, tok("h", "u", "s", t0, time.Hour))
	before := snap(t, s.path(key))
	names := dirNames(t, s.Dir())
	for i := 0; i < 3; i++ {
		_, src, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
			t.Fatal("fetch called on a fresh hit")
			return Entry{}, nil
		})
		if err != nil || src != SourceCache {
			t.Fatal(src, err)
		}
	}
	if after := dirNames(t, s.Dir()); fmt.Sprint(after) != fmt.Sprint(names) {
		t.Fatalf("directory changed: %v -> %v", names, after)
	}
	if !before.equal(snap(t, s.path(key))) {
		t.Fatal("entry rewritten on hit")
	}
}

func TestGetOrFetchOtherHostIsMiss(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("x")
	mustPut(t, s, key, tok("other.example", "u", "s", t0, time.Hour))
	_, src, err := s.GetOrFetch(context.Background(), key, "reg.example", time.Minute, func(context.Context) (Entry, error) {
		return tok("", "u", "new", t0, time.Hour), nil
	})
	if err != nil || src != SourceFetched {
		t.Fatal(src, err)
	}
	if e, _ := s.Get(key); e.Host != "reg.example" {
		t.Fatalf("stored %v", e)
	}
}

func TestGetOrFetchBadKey(t *testing.T) {
	s, _ := newTestStore(t)
	_, _, err := s.GetOrFetch(context.Background(), "../../etc/passwd", "h", time.Minute, func(context.Context) (Entry, error) {
		t.Fatal("fetch called")
		return Entry{}, nil
	})
	if err == nil {
		t.Fatal("no error for a bad key")
	}
}

// holdLock takes the lock of key as another process would.
func holdLock(t *testing.T, s *Store, key string) *fileLock {
	t.Helper()
	lk, err := openLock(s.path(key + lockSuffix))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := lk.tryLock(); !ok || err != nil {
		t.Fatal("cannot take lock", ok, err)
	}
	t.Cleanup(lk.close)
	return lk
}

func TestLockWaitBoundedByContext(t *testing.T) {
	tests := []struct {
		name    string
		stored  *Entry
		wantSrc Source
	}{
		{"no entry: error", nil, SourceNone},
		{"valid aging entry: stale", &Entry{Host: "h", Username: "u", Secret: "aging", FetchedAt: t0.Add(-59 * time.Minute), ExpiresAt: t0.Add(time.Minute)}, SourceStale},
		{"expired entry: error", &Entry{Host: "h", Username: "u", Secret: "old", FetchedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Hour)}, SourceNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			key := Key("h", "u")
			if tt.stored != nil {
				mustPut(t, s, key, *tt.stored)
			}
			holdLock(t, s, key)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			start := time.Now()
			e, src, err := s.GetOrFetch(ctx, key, "h", 5*time.Minute, func(context.Context) (Entry, error) {
				t.Fatal("fetch called without the lock")
				return Entry{}, nil
			})
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want deadline exceeded", err)
			}
			if src != tt.wantSrc || (src == SourceStale) != (e.Secret == "aging") {
				t.Fatalf("got %v %v", e, src)
			}
			if elapsed < 140*time.Millisecond || elapsed > 2*time.Second {
				t.Fatalf("returned after %v", elapsed)
			}
		})
	}
}

// TestWaiterSeesPeerResult: while another process holds the lock and then
// writes a fresh entry, the waiter returns that entry without fetching.
func TestWaiterSeesPeerResult(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	holdLock(t, s, key)
	peerDone := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		peerDone <- s.Put(key, tok("h", "u", "peer", t0, time.Hour))
	}()
	defer func() {
		if err := <-peerDone; err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e, src, err := s.GetOrFetch(ctx, key, "h", time.Minute, func(context.Context) (Entry, error) {
		t.Error("fetch called")
		return Entry{}, errors.New("no")
	})
	if err != nil || src != SourceCache || e.Secret != "peer" {
		t.Fatal(e, src, err)
	}
}

// TestPanickingFetchReleasesLock: the lock is released when fetch panics.
func TestPanickingFetchReleasesLock(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	func() {
		defer func() { recover() }()
		s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
			panic("boom")
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, src, err := s.GetOrFetch(ctx, key, "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "s", t0, time.Hour), nil
	})
	if err != nil || src != SourceFetched {
		t.Fatal(src, err)
	}
}

// TestInProcessSingleFlight: goroutines of one process also fetch once
// (flock locks belong to open file descriptions).
func TestInProcessSingleFlight(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	var calls atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	srcs := make([]Source, 32)
	for i := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e, src, err := s.GetOrFetch(ctx, key, "h", time.Minute, func(context.Context) (Entry, error) {
				calls.Add(1)
				time.Sleep(50 * time.Millisecond)
				return tok("h", "u", "s", t0, time.Hour), nil
			})
			if err != nil || e.Secret != "s" {
				t.Error(e, err)
			}
			srcs[i] = src
		}()
	}
	close(start)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1 (sources %v)", n, srcs)
	}
}

// TestPutFailureIsNotFatal: the fetched token is returned even if it cannot
// be stored; the failure goes to OnError.
func TestPutFailureIsNotFatal(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	// A non-empty directory where the entry should be: read misses, rename fails.
	if err := os.MkdirAll(filepath.Join(s.path(key), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	var reported []error
	s.OnError = func(err error) { reported = append(reported, err) }
	e, src, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "top-secret", t0, time.Hour), nil
	})
	if err != nil || src != SourceFetched || e.Secret != "top-secret" {
		t.Fatal(e, src, err)
	}
	if len(reported) != 1 || strings.Contains(reported[0].Error(), "top-secret") {
		t.Fatalf("OnError got %v", reported)
	}
	for _, name := range dirNames(t, s.Dir()) {
		if strings.HasPrefix(name, tmpPrefix) {
			t.Fatalf("temporary file left behind: %s", name)
		}
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
	if s.GetLookup(Key("a"), &v) || s.PutLookup(Key("a"), "x", time.Hour) != nil || s.Put(Key("a"), Entry{}) != nil {
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
	want := []string{Key("a", "1") + lockSuffix, Key("a", "lookup") + lookupSuffix, Key("corrupt"), tmpPrefix + "x"}
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
	mustPut(t, s, Key("k"), tok("h", "u", "s", t0, time.Hour))
	if _, err := os.Lstat(old); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale temp file not removed")
	}
	for _, p := range []string{recent, other} {
		if _, err := os.Lstat(p); err != nil {
			t.Fatalf("%s removed: %v", p, err)
		}
	}
}

func TestRedaction(t *testing.T) {
	const secret = "SUPER-SECRET-TOKEN"
	e := tok("reg.example", "user", secret, t0, time.Hour)
	var out []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		out = append(out, fmt.Sprintf(f, e))
	}
	out = append(out, fmt.Sprint(e), fmt.Sprintln(&e), e.String(), e.GoString(), fmt.Sprintf("%v", []Entry{e}))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "entry", e)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "entry", e)
	out = append(out, buf.String())
	for _, o := range out {
		if strings.Contains(o, secret) {
			t.Fatalf("secret leaked: %s", o)
		}
		if !strings.Contains(o, "reg.example") && !strings.Contains(o, "cache.Entry") {
			t.Errorf("unhelpful formatting: %s", o)
		}
	}
	// Errors of the package never contain the secret either.
	s, _ := newTestStore(t)
	var errs []error
	_, _, err := s.GetOrFetch(context.Background(), Key("x"), "reg.example", time.Minute, func(context.Context) (Entry, error) {
		return tok("reg.example", "u", secret, t0.Add(-2*time.Hour), time.Hour), nil // expired
	})
	errs = append(errs, err)
	errs = append(errs, s.Put(Key("y"), tok("reg.example", "u", secret+strings.Repeat("x", maxEntrySize), t0, time.Hour)))
	errs = append(errs, s.Put(Key("y"), Entry{Secret: secret}))
	errs = append(errs, s.Put(Key("y"), Entry{Host: "h", Secret: secret}))
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("error %v", err)
		}
	}
}

func TestDefaultDirAndOpenDefault(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantDir  string // relative to the test's temp dir; "" = none
		wantNil  bool   // OpenDefault returns (nil, nil)
		wantErr  bool
		disabled bool
	}{
		{"explicit dir", map[string]string{EnvCacheDir: "{tmp}/explicit"}, "explicit", false, false, false},
		{"explicit dir wins over XDG", map[string]string{EnvCacheDir: "{tmp}/explicit", "XDG_CACHE_HOME": "{tmp}/xdg"}, "explicit", false, false, false},
		{"XDG_CACHE_HOME", map[string]string{"XDG_CACHE_HOME": "{tmp}/xdg"}, "xdg/docker-credential-acr", false, false, false},
		{"relative explicit dir", map[string]string{EnvCacheDir: "rel/dir"}, "", false, true, false},
		{"NO_CACHE=1", map[string]string{EnvNoCache: "1", EnvCacheDir: "{tmp}/explicit"}, "", true, false, true},
		{"NO_CACHE=true", map[string]string{EnvNoCache: "true", EnvCacheDir: "{tmp}/explicit"}, "", true, false, true},
		{"NO_CACHE=0", map[string]string{EnvNoCache: "0", EnvCacheDir: "{tmp}/explicit"}, "explicit", false, false, false},
		{"NO_CACHE=false", map[string]string{EnvNoCache: "false", EnvCacheDir: "{tmp}/explicit"}, "explicit", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			tmp := t.TempDir()
			for k, v := range tt.env {
				t.Setenv(k, strings.ReplaceAll(v, "{tmp}", tmp))
			}
			if Disabled() != tt.disabled {
				t.Fatalf("Disabled = %v", !tt.disabled)
			}
			s, err := OpenDefault()
			if (err != nil) != tt.wantErr {
				t.Fatalf("OpenDefault err = %v", err)
			}
			if tt.wantNil || tt.wantErr {
				if s != nil {
					t.Fatalf("store %v", s.Dir())
				}
				return
			}
			want := filepath.Join(tmp, tt.wantDir)
			if s == nil || s.Dir() != want {
				t.Fatalf("dir = %q, want %q", s.Dir(), want)
			}
			if d, err := DefaultDir(); err != nil || d != want {
				t.Fatalf("DefaultDir = %q, %v", d, err)
			}
		})
	}
}

func TestSourceString(t *testing.T) {
	for src, want := range map[Source]string{SourceNone: "none", SourceCache: "cache", SourceFetched: "fetched", SourceStale: "stale", Source(9): "Source(9)"} {
		if src.String() != want {
			t.Errorf("%d: %q", int(src), src.String())
		}
	}
}

// BenchmarkHit measures the hot path: a fresh entry served from disk.
func BenchmarkHit(b *testing.B) {
	s, _ := newTestStore(b)
	key := Key("reg.example", "user")
	// A realistic ACR temporary token is ~1-2 KB.
	mustPut(b, s, key, tok("reg.example", "cr_temp_user", strings.Repeat("t", 1500), t0, time.Hour))
	ctx := context.Background()
	fetch := func(context.Context) (Entry, error) {
		b.Fatal("fetch called")
		return Entry{}, nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, src, err := s.GetOrFetch(ctx, key, "reg.example", time.Minute, fetch); err != nil || src != SourceCache {
			b.Fatal(src, err)
		}
	}
}

// TestGetOrFetchSharedKey: with an empty host, the entry of any host is
// served (a token shared by the hosts of one instance).
func TestGetOrFetchSharedKey(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("instance", "cri-1")
	calls := 0
	fetch := func(context.Context) (Entry, error) {
		calls++
		return tok("a.example", "u", "s", t0, time.Hour), nil
	}
	for i, want := range []Source{SourceFetched, SourceCache, SourceCache} {
		e, src, err := s.GetOrFetch(context.Background(), key, "", time.Minute, fetch)
		if err != nil || src != want || e.Host != "a.example" {
			t.Fatalf("call %d: %v %v %v", i, e, src, err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d fetches", calls)
	}
}
