package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Store is a cache directory. Its methods are safe for concurrent use by
// goroutines and processes. A nil *Store caches nothing: GetOrFetch just
// calls fetch, lookups miss, writes are no-ops.
type Store struct {
	dir string     // the physical path of the directory, for messages and tests
	d   *dirHandle // the checked directory: every file operation is relative to it

	// Now, if set, replaces time.Now for expiry decisions (tests).
	Now func() time.Time
	// onError, if set, receives non-fatal cache errors, e.g. a failed write
	// after a successful fetch. The errors never contain secrets.
	onError func(error)
	// waitHook, if set, is called each time GetOrFetch finds the lock of a
	// key held by another fetch, before it waits (tests synchronise on it).
	waitHook func(ctx context.Context)
	// afterPutHook, if set, runs after GetOrFetch has written a fetched
	// entry, before it reads the erase log (tests).
	afterPutHook func()
	// syncHook, if set, is called for each fsync a write makes: the file's
	// name, or "." for the directory (tests).
	syncHook func(name string)
}

// Dir returns the cache directory ("" for a nil Store).
func (s *Store) Dir() string {
	if s == nil {
		return ""
	}
	return s.dir
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) report(err error) {
	if s.onError != nil && err != nil {
		s.onError(err)
	}
}

// path is the path of name in the directory, for messages and tests; file
// operations go through s.d.
func (s *Store) path(name string) string {
	return s.dir + string(os.PathSeparator) + name
}

// readToken reads the token entry of key. It does nothing but open, read
// and close the file (the hot path). If host is not empty, an entry for
// another host is a miss.
func (s *Store) readToken(key, host string) (Entry, bool) {
	data, release, ok := s.readEntryFile(key)
	if !ok {
		return Entry{}, false
	}
	e, ok := decodeEntry(key, data)
	release()
	if !ok || (host != "" && !strings.EqualFold(e.Host, host)) {
		return Entry{}, false
	}
	return e, true
}

// Get returns the token entry of key if it is present and still Valid.
func (s *Store) Get(key string) (Entry, bool) {
	if s == nil || !isKey(key) {
		return Entry{}, false
	}
	e, ok := s.readToken(key, "")
	if !ok || !e.Valid(s.now()) {
		return Entry{}, false
	}
	return e, true
}

// put stores e as the token entry of key, atomically. e.Host must be set and
// e.ExpiresAt must not be zero.
func (s *Store) put(key string, e Entry) error {
	if s == nil {
		return nil
	}
	if err := checkKey(key); err != nil {
		return err
	}
	data, err := encodeEntry(key, e)
	if err != nil {
		return err
	}
	return s.writeCacheFile(key, data)
}

// GetLookup decodes the unexpired lookup value of key into v (as with
// json.Unmarshal) and reports whether it did. v may be partially modified
// when false is returned for a value that does not fit v.
func (s *Store) GetLookup(key string, v any) bool {
	if s == nil || !isKey(key) {
		return false
	}
	data, release, ok := s.readEntryFile(key + lookupSuffix)
	if !ok {
		return false
	}
	defer release()
	raw, expiresAt, ok := decodeLookup(key+lookupSuffix, data)
	if !ok || !s.now().Before(expiresAt) {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// PutLookup stores v (encoded with json.Marshal) as the lookup value of key
// for ttl. Lookups are for non-secret data (instance ids, regions,
// challenge results) and never mix with token entries.
func (s *Store) PutLookup(key string, v any, ttl time.Duration) error {
	if s == nil {
		return nil
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("cache: lookup ttl %v is not positive", ttl)
	}
	now := s.now()
	data, err := encodeLookup(key+lookupSuffix, v, now, now.Add(ttl))
	if err != nil {
		return err
	}
	return s.writeCacheFile(key+lookupSuffix, data)
}

// List returns the valid token entries, sorted by host and user name, with
// Secret cleared. Unreadable or corrupt files are skipped.
func (s *Store) List() ([]Entry, error) {
	if s == nil {
		return nil, nil
	}
	names, err := s.d.names()
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	now := s.now()
	var out []Entry
	for _, name := range names {
		if !isKey(name) {
			continue
		}
		e, ok := s.readToken(name, "")
		if !ok || !e.Valid(now) {
			continue
		}
		e.Secret = ""
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Username < out[j].Username
	})
	return out, nil
}

// RemoveHost removes every token entry (valid or expired) whose host equals
// host (case-insensitively) and returns how many it removed. Corrupt files,
// lookups and lock files are left alone. A fetch in progress does not bring
// an entry back afterwards (see erase.go).
func (s *Store) RemoveHost(host string) (int, error) {
	if s == nil || host == "" {
		return 0, nil
	}
	logErr := s.logErase("h", hostID(host))
	names, err := s.d.names()
	if err != nil {
		return 0, errors.Join(logErr, fmt.Errorf("cache: %w", err))
	}
	n := 0
	errs := []error{logErr}
	for _, name := range names {
		if !isKey(name) {
			continue
		}
		if _, ok := s.readToken(name, host); !ok {
			continue
		}
		if err := s.d.remove(name); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cache: %w", err))
			}
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Remove removes the token entry of key, whatever host fetched it, and reports whether there
// was one. (Tokens are shared by the hosts of one region or instance, so `docker logout` of one
// of them removes the shared entry by its key.) A fetch in progress does not bring the entry
// back afterwards (see erase.go).
func (s *Store) Remove(key string) (bool, error) {
	return s.remove(key, true)
}

// Drop removes the token entry of key without recording an erase: it is a copy the caller no
// longer reads (a token kept under another key), not a logout, so fetches in flight are not
// told to discard theirs.
func (s *Store) Drop(key string) error {
	_, err := s.remove(key, false)
	return err
}

func (s *Store) remove(key string, logged bool) (bool, error) {
	if s == nil || !isKey(key) {
		return false, nil
	}
	var logErr error
	if logged {
		logErr = s.logErase("k", key)
	}
	err := s.d.remove(key)
	if errors.Is(err, os.ErrNotExist) {
		return false, logErr
	}
	if err != nil {
		return false, errors.Join(logErr, fmt.Errorf("cache: %w", err))
	}
	return true, logErr
}
