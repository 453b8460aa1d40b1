package cache

import (
	"context"
	"fmt"
	"time"
)

// Source tells where GetOrFetch got its entry from.
type Source int

const (
	// SourceNone: no entry was returned (the error is fatal).
	SourceNone Source = iota
	// SourceCache: a fresh entry from the cache (possibly written by another
	// process that fetched it while this one waited for the lock).
	SourceCache
	// SourceFetched: fetch was called and succeeded.
	SourceFetched
	// SourceStale: refreshing failed (fetch error or lock wait cut short by
	// the context), but the old entry is still valid and is returned. The
	// error is returned too and should be shown as a warning.
	SourceStale
)

func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceCache:
		return "cache"
	case SourceFetched:
		return "fetched"
	case SourceStale:
		return "stale"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// GetOrFetch returns the token of key (for registry host) from the cache if
// it is Fresh for threshold. Otherwise it takes a cross-process lock on the
// key (waiting at most until ctx is done), checks the cache again (another
// process may have fetched meanwhile), and only then calls fetch and stores
// the result. Among concurrent processes missing on one key, only one calls
// fetch.
//
// If host is not empty, a cached entry for another host is a miss; with an
// empty host (a token shared by several hosts) fetch must set Entry.Host.
// The returned entry has Host set to host (if fetch left it empty) and
// FetchedAt set to now (if zero). If fetch fails, or ctx ends while waiting
// for the lock, and the old entry is still Valid, GetOrFetch returns the old
// entry, SourceStale and the error (a warning). An expired token is never
// returned. Failing to write the cache is not an error (see onError).
//
// On a nil Store, GetOrFetch just calls fetch.
func (s *Store) GetOrFetch(ctx context.Context, key, host string, threshold time.Duration,
	fetch func(ctx context.Context) (Entry, error)) (Entry, Source, error) {
	if s == nil {
		e, err := fetchChecked(ctx, host, time.Now, fetch)
		if err != nil {
			return Entry{}, SourceNone, err
		}
		return e, SourceFetched, nil
	}
	if err := checkKey(key); err != nil {
		return Entry{}, SourceNone, err
	}

	// Hot path: open, read, close.
	old, haveOld := s.readToken(key, host)
	if haveOld && old.Fresh(s.now(), threshold) {
		if s.lastingDue(s.now()) {
			s.maybePrune()
		}
		return old, SourceCache, nil
	}

	lk, cached, err := s.lockKey(ctx, key, host, threshold)
	if cached != nil {
		return *cached, SourceCache, nil
	}
	if err != nil {
		return s.stale(old, haveOld, err)
	}
	if lk != nil {
		defer lk.close()
	}

	// Read again under the lock: another process may have fetched.
	old, haveOld = s.readToken(key, host)
	if haveOld && old.Fresh(s.now(), threshold) {
		return old, SourceCache, nil
	}
	if haveOld && old.Lasting && !old.Valid(s.now()) && lk != nil {
		// Its secret still works: it goes now, whether or not the fetch succeeds.
		s.d.remove(key)
	}
	mark := s.eraseMark()
	e, err := fetchChecked(ctx, host, s.now, fetch)
	if err != nil {
		return s.stale(old, haveOld, err)
	}
	if err := s.put(key, e); err != nil {
		s.report(err)
	} else if e.Lasting {
		s.noteLasting(e.ExpiresAt)
	}
	if s.afterPutHook != nil {
		s.afterPutHook()
	}
	if s.erasedSince(mark, key, e.Host) {
		// A logout ran while this fetch did: it wins (see erase.go). The
		// entry is this fetch's own: it holds the key's lock.
		s.d.remove(key)
	}
	s.maybePrune()
	return e, SourceFetched, nil
}

// maxRelock bounds how often lockKey takes a lock again after finding its
// lock file removed (by prune) while it waited.
const maxRelock = 100

// lockKey takes the lock of key, waiting at most until ctx is done. While
// another process holds it, it polls the entry: if a fresh one appears, it
// returns it as cached instead of the lock. If the lock cannot be used, it
// reports why and returns no lock and no error: the caller fetches without.
func (s *Store) lockKey(ctx context.Context, key, host string, threshold time.Duration) (*fileLock, *Entry, error) {
	for relock := 0; relock < maxRelock; relock++ {
		lk, err := openLock(s.d, key+lockSuffix)
		if err != nil {
			s.report(fmt.Errorf("cache: %w; fetching without lock", err))
			return nil, nil, nil
		}
		delay := time.Millisecond
		for {
			got, err := lk.tryLock()
			if err != nil {
				lk.close()
				s.report(fmt.Errorf("cache: lock %s: %w; fetching without lock", lk.name, err))
				return nil, nil, nil
			}
			if got {
				break
			}
			if s.waitHook != nil {
				s.waitHook(ctx)
			}
			// Another process is fetching; it may already be done.
			if e, ok := s.readToken(key, host); ok && e.Fresh(s.now(), threshold) {
				lk.close()
				return nil, &e, nil
			}
			if err := sleepCtx(ctx, delay); err != nil {
				lk.close()
				return nil, nil, fmt.Errorf("cache: waiting for another process to fetch the token: %w", err)
			}
			if delay < 16*time.Millisecond {
				delay *= 2
			}
		}
		if lk.linked() {
			return lk, nil, nil
		}
		lk.close() // removed by prune while we waited: lock the new file
	}
	s.report(fmt.Errorf("cache: lock %s keeps being removed; fetching without lock", key+lockSuffix))
	return nil, nil, nil
}

// sleepCtx waits for d or until ctx is done, whichever comes first; a context
// that is already done wins over an expired timer.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fetchChecked calls fetch, fills in Host and FetchedAt and rejects a token
// that is already expired.
func fetchChecked(ctx context.Context, host string, clock func() time.Time,
	fetch func(ctx context.Context) (Entry, error)) (Entry, error) {
	e, err := fetch(ctx)
	if err != nil {
		return Entry{}, err
	}
	now := clock()
	if e.Host == "" {
		e.Host = host
	}
	if e.FetchedAt.IsZero() {
		e.FetchedAt = now
	}
	if !e.Valid(now) {
		return Entry{}, fmt.Errorf("cache: fetched token for %s is not valid (expires at %s)",
			e.Host, e.ExpiresAt.Format(time.RFC3339))
	}
	return e, nil
}

func (s *Store) stale(old Entry, haveOld bool, err error) (Entry, Source, error) {
	if haveOld && old.Valid(s.now()) {
		return old, SourceStale, err
	}
	return Entry{}, SourceNone, err
}
