package cache

import (
	"context"
	"os"
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
