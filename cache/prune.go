package cache

import (
	"errors"
	"os"
	"strings"
	"time"
)

const (
	// pruneAfter is how long an expired entry or lookup stays before prune
	// removes it.
	pruneAfter = 24 * time.Hour
	// pruneEvery is how often a fetch runs prune: it reads every file of
	// the directory, which costs tens of milliseconds with thousands of keys.
	pruneEvery = time.Hour
	// pruneName records when prune last ran (RFC 3339).
	pruneName = ".last-prune"
	// lastingDueName records when the first Lasting entry expires (RFC 3339): from then on,
	// every run of the helper prunes until it is gone.
	lastingDueName = ".lasting-due"
)

// lastingDue reports whether a Lasting entry expired at or before now (one file to open; none
// when no Lasting entry was ever written).
func (s *Store) lastingDue(now time.Time) bool {
	data, release, ok := s.readEntryFile(lastingDueName)
	if !ok {
		return false
	}
	due, err := time.Parse(time.RFC3339Nano, string(data))
	release()
	return err != nil || !now.Before(due)
}

// noteLasting lowers the Lasting due time to expires.
func (s *Store) noteLasting(expires time.Time) {
	if data, release, ok := s.readEntryFile(lastingDueName); ok {
		due, err := time.Parse(time.RFC3339Nano, string(data))
		release()
		if err == nil && !due.After(expires) {
			return
		}
	}
	if err := s.writeAtomic(lastingDueName, []byte(expires.UTC().Format(time.RFC3339Nano))); err != nil {
		s.report(err)
	}
}

// maybePrune runs prune if it has not run in the last pruneEvery, or if a Lasting entry
// expired.
func (s *Store) maybePrune() {
	now := s.now()
	if data, release, ok := s.readEntryFile(pruneName); ok && !s.lastingDue(now) {
		last, err := time.Parse(time.RFC3339Nano, string(data))
		release()
		if err == nil && !last.After(now) && now.Sub(last) < pruneEvery {
			return
		}
	} else if ok {
		release()
	}
	// A hint, not worth an fsync: lost in a crash, it costs one more prune.
	if err := s.writeCacheFile(pruneName, []byte(now.UTC().Format(time.RFC3339Nano))); err != nil {
		return // a read-only or full disk: prune would not get far either
	}
	s.cleanTemps()
	s.prune()
	s.rotateEraseLog()
}

// prune removes, so that a node whose workloads come and go (one entry per
// service-account token) does not gather files for ever:
//   - Lasting entries that expired (their secret still works), with their
//     lock file, and records when the next one expires (lastingDueName);
//   - token entries that expired more than a day ago, with their lock file;
//   - lookups that expired more than a day ago;
//   - lock files older than a day whose entry is gone.
//
// A token entry and its lock file are removed only while holding the lock,
// taken without blocking (a held lock means a fetch in progress: skip it).
// Removing a lock file is safe for others because every taker of a lock
// checks, once it holds it, that the file it locked is still linked under
// its name, and starts again on a fresh file otherwise (see fileLock). On
// platforms without that check (Windows, no flock) lock files are kept.
//
// A lookup is removed without a lock: if a new one is written between the
// read and the removal, the next lookup misses once (lookups are not
// secret and are fetched again).
//
// prune runs after a fetch (at most every pruneEvery), never on the cached
// path; errors are ignored.
// It returns how many token entries it removed.
func (s *Store) prune() int {
	if s == nil {
		return 0
	}
	names, err := s.d.names()
	if err != nil {
		return 0
	}
	present := make(map[string]bool, len(names))
	for _, name := range names {
		present[name] = true
	}
	now := s.now()
	cutoff := now.Add(-pruneAfter)
	n := 0
	var nextLasting time.Time
	for _, name := range names {
		switch {
		case isKey(name):
			e, ok := s.readToken(name, "")
			if !ok {
				continue
			}
			c := cutoff
			if e.Lasting {
				c = now
			}
			if !e.ExpiresAt.After(c) && s.pruneKey(name, c) {
				n++
			} else if e.Lasting && (nextLasting.IsZero() || e.ExpiresAt.Before(nextLasting)) {
				nextLasting = e.ExpiresAt // live, or held by a fetch: the next run tries again
			}
		case strings.HasSuffix(name, lookupSuffix) && isKey(strings.TrimSuffix(name, lookupSuffix)):
			s.pruneLookup(name, cutoff)
		case strings.HasSuffix(name, lockSuffix) && isKey(strings.TrimSuffix(name, lockSuffix)):
			key := strings.TrimSuffix(name, lockSuffix)
			if _, mtime, err := s.d.stat(name); !present[key] && err == nil && mtime.Before(cutoff) {
				s.pruneKey(key, cutoff)
			}
		}
	}
	if nextLasting.IsZero() {
		s.d.remove(lastingDueName)
	} else if err := s.writeAtomic(lastingDueName, []byte(nextLasting.UTC().Format(time.RFC3339Nano))); err != nil {
		s.report(err)
	}
	return n
}

// pruneKey holds the lock of key (if free), removes the entry if it expired
// at or before cutoff, then the lock file if the entry is gone. It reports
// whether it removed the entry.
func (s *Store) pruneKey(key string, cutoff time.Time) bool {
	lk, err := openLock(s.d, key+lockSuffix)
	if err != nil {
		return false
	}
	defer lk.close()
	if got, err := lk.tryLock(); err != nil || !got || !lk.linked() {
		return false // a fetch of key is in progress
	}
	// No fetch of key runs now: the entry cannot change under us.
	removed := false
	if e, ok := s.readToken(key, ""); ok && !e.ExpiresAt.After(cutoff) {
		removed = s.d.remove(key) == nil
	}
	if _, _, err := s.d.stat(key); errors.Is(err, os.ErrNotExist) {
		lk.removeHeld()
	}
	return removed
}

// pruneLookup removes the lookup file name if it expired before cutoff.
func (s *Store) pruneLookup(name string, cutoff time.Time) {
	data, release, ok := s.readEntryFile(name)
	if !ok {
		return
	}
	_, expiresAt, ok := decodeLookup(name, data)
	release()
	if ok && expiresAt.Before(cutoff) {
		s.d.remove(name)
	}
}
