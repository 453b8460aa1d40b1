package cache

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestEraseWinsOverInflightFetch: `docker logout` (Remove of the key, or
// RemoveHost) while a fetch that started before it is still running: the
// fetch's caller gets its token, but it is not cached, and the next get
// fetches again. The fetch blocks until the erase has returned: no sleeps.
func TestEraseWinsOverInflightFetch(t *testing.T) {
	erases := map[string]func(s *Store, key string) (bool, error){
		"Remove": func(s *Store, key string) (bool, error) { return s.Remove(key) },
		"RemoveHost": func(s *Store, key string) (bool, error) {
			n, err := s.RemoveHost("reg.example")
			return n > 0, err
		},
	}
	for name, erase := range erases {
		for _, cached := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/cold", true: "/refresh"}[cached], func(t *testing.T) {
				s, _ := newTestStore(t)
				key := Key("reg.example", "u")
				if cached { // an old entry due for refresh: the erase removes it
					mustPut(t, s, key, tok("reg.example", "u", "old", t0.Add(-55*time.Minute), time.Hour))
				}
				erased := make(chan struct{})
				e, src, err := s.GetOrFetch(context.Background(), key, "reg.example", 15*time.Minute, func(context.Context) (Entry, error) {
					// The user runs `docker logout` now; it returns before the fetch does.
					if _, err := erase(s, key); err != nil {
						t.Error(err)
					}
					close(erased)
					return tok("reg.example", "u", "fetched-before-logout", t0, time.Hour), nil
				})
				<-erased
				if err != nil || src != SourceFetched || e.Secret != "fetched-before-logout" {
					t.Fatalf("in-flight get: %v %v %v", e, src, err)
				}
				if got, ok := s.Get(key); ok {
					t.Fatalf("after logout the cache serves %v", got)
				}
				if _, err := os.Lstat(s.path(key)); !os.IsNotExist(err) {
					t.Fatalf("entry file left after logout: %v", err)
				}
				calls := 0
				e, src, err = s.GetOrFetch(context.Background(), key, "reg.example", 15*time.Minute, func(context.Context) (Entry, error) {
					calls++
					return tok("reg.example", "u", "after-logout", t0, time.Hour), nil
				})
				if err != nil || src != SourceFetched || calls != 1 || e.Secret != "after-logout" {
					t.Fatalf("get after logout: %v %v %v (%d fetches)", e, src, err, calls)
				}
				// A fetch that starts after the logout is cached as usual.
				if got, ok := s.Get(key); !ok || got.Secret != "after-logout" {
					t.Fatalf("fetch after logout not cached: %v %v", got, ok)
				}
			})
		}
	}
}

// TestEraseBetweenWriteAndCheck: the logout runs after the fetch has written
// its entry but before it reads the erase log (the other order of
// the two sides): the entry is gone either way.
func TestEraseBetweenWriteAndCheck(t *testing.T) {
	for _, byHost := range []bool{false, true} {
		s, _ := newTestStore(t)
		key := Key("reg.example", "u")
		s.afterPutHook = func() {
			s.afterPutHook = nil
			if !fileExists(s.path(key)) {
				t.Fatal("the hook runs before the write")
			}
			var err error
			if byHost {
				_, err = s.RemoveHost("reg.example")
			} else {
				_, err = s.Remove(key)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, src, err := s.GetOrFetch(context.Background(), key, "reg.example", time.Minute, func(context.Context) (Entry, error) {
			return tok("reg.example", "u", "s", t0, time.Hour), nil
		}); err != nil || src != SourceFetched {
			t.Fatal(src, err)
		}
		if fileExists(s.path(key)) {
			t.Fatalf("byHost=%v: entry survived the logout", byHost)
		}
	}
}

// TestEraseLogUnwritable: if the erase log cannot be written
// (a full or read-only disk), the entries are removed anyway and the error
// says what may happen.
func TestEraseLogUnwritable(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("k")
	mustPut(t, s, key, tok("h", "u", "s", t0, time.Hour))
	// A directory where the log goes: it cannot be opened for appending.
	if err := os.MkdirAll(s.path(eraseLogName+"/x"), 0o700); err != nil {
		t.Fatal(err)
	}
	ok, err := s.Remove(key)
	if !ok || err == nil || !strings.Contains(err.Error(), "may still cache") {
		t.Fatalf("Remove = %v, %v", ok, err)
	}
	if fileExists(s.path(key)) {
		t.Fatal("entry not removed")
	}
}

// TestEraseOfAnotherHostKeepsFetch: a logout of another key and host while a
// fetch runs does not stop that fetch's token from being cached (200
// processes mixing get and erase still cost one token call per registry).
func TestEraseOfAnotherHostKeepsFetch(t *testing.T) {
	s, _ := newTestStore(t)
	key := Key("reg.example", "u")
	other := Key("other.example", "u")
	mustPut(t, s, other, tok("other.example", "u", "s", t0, time.Hour))
	if _, _, err := s.GetOrFetch(context.Background(), key, "", time.Minute, func(context.Context) (Entry, error) {
		if _, err := s.Remove(other); err != nil {
			t.Error(err)
		}
		if _, err := s.RemoveHost("other.example"); err != nil {
			t.Error(err)
		}
		return tok("reg.example", "u", "kept", t0, time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Get(key); !ok || e.Secret != "kept" {
		t.Fatalf("token not cached after a logout of another host: %v %v", e, ok)
	}
	// The same with the erased host only known from the fetched token (a
	// shared key: GetOrFetch gets host "").
	if _, _, err := s.GetOrFetch(context.Background(), Key("shared"), "", time.Minute, func(context.Context) (Entry, error) {
		if _, err := s.RemoveHost("REG.example"); err != nil {
			t.Error(err)
		}
		return tok("reg.example", "u", "erased", t0, time.Hour), nil
	}); err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Get(Key("shared")); ok {
		t.Fatalf("shared-key token survived a logout of its host: %v", e)
	}
}
