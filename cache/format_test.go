package cache

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCorruptEntries: anything that is not a complete current-version token
// entry is a miss, is replaced by the next fetch, and leaves the neighbour
// untouched.
func TestCorruptEntries(t *testing.T) {
	entryKey := Key("reg.example", "u")
	valid := mustEncode(t, entryKey, tok("reg.example", "u", "old-secret", t0, time.Hour))
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
	lookup, err := encodeLookup(entryKey, "x", t0, t0.Add(time.Hour))
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
		// Written for another key (moved or copied there, or another file's blocks after a
		// crash, since cache entries are not fsynced): never served.
		{"another key's entry", mustEncode(t, Key("reg.example", "other"), tok("reg.example", "u", "old-secret", t0, time.Hour)), ""},
		{"no key (written before entries named their key)", withField("key", nil), ""},
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

			key := entryKey
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
	overhead := len(mustEncode(t, Key("exactly 64 KiB"), base))
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
			key := Key(tt.name)
			if tt.hit {
				data = mustEncode(t, key, e)
			} else {
				// encodeEntry refuses; write it as a foreign writer would.
				if _, err := encodeEntry(key, e); err == nil {
					t.Fatal("encodeEntry accepted an oversize entry")
				}
				f := tokenFile{V: formatVersion, Kind: kindToken, Key: key, Host: e.Host, Username: e.Username, Secret: e.Secret, ExpiresAt: e.ExpiresAt, FetchedAt: e.FetchedAt}
				data, _ = json.Marshal(f)
			}
			if len(data) != tt.size {
				t.Fatalf("built %d bytes, want %d", len(data), tt.size)
			}
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
	err := s.put(Key("big"), tok("reg.example", "u", secret, t0, time.Hour))
	if err == nil || strings.Contains(err.Error(), "SSSS") {
		t.Fatalf("Put oversize: %v", err)
	}
}
