package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

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

// holdLock takes the lock of key as another process would.
func holdLock(t *testing.T, s *Store, key string) *fileLock {
	t.Helper()
	lk, err := openLock(s.d, key+lockSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := lk.tryLock(); !ok || err != nil {
		t.Fatal("cannot take lock", ok, err)
	}
	t.Cleanup(lk.close)
	return lk
}

// TestLockWaitBoundedByContext: while another process holds the lock, the
// waiter gives up when its context ends (cancelled while it waits, or past
// its deadline), serving a still-valid old entry as stale.
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
	for _, end := range []string{"cancel", "deadline"} {
		for _, tt := range tests {
			t.Run(end+"/"+tt.name, func(t *testing.T) {
				s, _ := newTestStore(t)
				key := Key("h", "u")
				if tt.stored != nil {
					mustPut(t, s, key, *tt.stored)
				}
				holdLock(t, s, key)
				ctx, cancel := context.WithCancel(context.Background())
				want := context.Canceled
				if end == "deadline" {
					ctx, cancel = context.WithDeadline(context.Background(), time.Now()) // already past
					want = context.DeadlineExceeded
				}
				defer cancel()
				waits := 0
				s.waitHook = func(context.Context) {
					waits++
					cancel() // the context ends while the waiter waits
				}
				e, src, err := s.GetOrFetch(ctx, key, "h", 5*time.Minute, func(context.Context) (Entry, error) {
					t.Fatal("fetch called without the lock")
					return Entry{}, nil
				})
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
				if waits != 1 {
					t.Fatalf("waited %d times, want 1", waits)
				}
				if src != tt.wantSrc || (src == SourceStale) != (e.Secret == "aging") {
					t.Fatalf("got %v %v", e, src)
				}
			})
		}
	}
}

// TestWaiterSeesPeerResult: while another process holds the lock and then
// writes a fresh entry, the waiter returns that entry without fetching. The
// peer writes from the waiter's wait hook: the waiter is known to be waiting.
func TestWaiterSeesPeerResult(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	holdLock(t, s, key)
	waits := 0
	s.waitHook = func(context.Context) {
		waits++
		if waits == 2 { // the waiter has already polled once and found nothing
			mustPut(t, s, key, tok("h", "u", "peer", t0, time.Hour))
		}
	}
	e, src, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		t.Error("fetch called")
		return Entry{}, errors.New("no")
	})
	if err != nil || src != SourceCache || e.Secret != "peer" {
		t.Fatal(e, src, err)
	}
	if waits != 2 {
		t.Fatalf("waited %d times, want 2", waits)
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
// (flock locks belong to open file descriptions). The fetch returns only
// once every other goroutine is waiting for its lock.
func TestInProcessSingleFlight(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	const n = 32
	type id int
	var mu sync.Mutex
	waiting := map[id]bool{}
	allWaiting := make(chan struct{})
	s.waitHook = func(ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		if i := ctx.Value(id(0)).(id); !waiting[i] {
			waiting[i] = true
			if len(waiting) == n-1 {
				close(allWaiting)
			}
		}
	}
	var calls atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	srcs := make([]Source, n)
	for i := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx := context.WithValue(context.Background(), id(0), id(i))
			e, src, err := s.GetOrFetch(ctx, key, "h", time.Minute, func(context.Context) (Entry, error) {
				calls.Add(1)
				<-allWaiting
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
// be stored; the failure goes to onError.
func TestPutFailureIsNotFatal(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("h", "u")
	// A non-empty directory where the entry should be: read misses, rename fails.
	if err := os.MkdirAll(filepath.Join(s.path(key), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	var reported []error
	s.onError = func(err error) { reported = append(reported, err) }
	e, src, err := s.GetOrFetch(context.Background(), key, "h", time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "top-secret", t0, time.Hour), nil
	})
	if err != nil || src != SourceFetched || e.Secret != "top-secret" {
		t.Fatal(e, src, err)
	}
	if len(reported) != 1 || strings.Contains(reported[0].Error(), "top-secret") {
		t.Fatalf("onError got %v", reported)
	}
	for _, name := range dirNames(t, s.Dir()) {
		if strings.HasPrefix(name, tmpPrefix) {
			t.Fatalf("temporary file left behind: %s", name)
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

// Issue 20 §7: after the clock steps back, an entry fetched "in the future" is fetched again,
// and never returned as stale when that fetch fails.
func TestEntryFetchedInTheFutureIsRefetched(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("stepped-back")
	mustPut(t, s, key, tok("h", "u", "old", t0.Add(2*time.Hour), time.Hour))
	e, src, err := s.GetOrFetch(context.Background(), key, "h", 5*time.Minute, func(context.Context) (Entry, error) {
		return tok("h", "u", "new", t0, time.Hour), nil
	})
	if err != nil || src != SourceFetched || e.Secret != "new" {
		t.Fatalf("%v %v %v", e, src, err)
	}
	mustPut(t, s, key, tok("h", "u", "old", t0.Add(2*time.Hour), time.Hour))
	if e, src, err := s.GetOrFetch(context.Background(), key, "h", 5*time.Minute, func(context.Context) (Entry, error) {
		return Entry{}, errors.New("down")
	}); err == nil || src != SourceNone {
		t.Fatalf("failed fetch: %v %v %v", e, src, err)
	}
}
