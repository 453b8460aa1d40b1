package cache

import (
	"os"
	"time"
)

// pruneAfter is how long an expired token entry stays before prune removes it.
const pruneAfter = 24 * time.Hour

// prune removes token entries that expired more than a day ago, and their lock files, so that
// a node whose workloads come and go (one entry per service-account token) does not gather files
// for ever. It runs after a fetch, never on the cached path; errors are ignored.
func (s *Store) prune() int {
	if s == nil {
		return 0
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return 0
	}
	cutoff := s.now().Add(-pruneAfter)
	n := 0
	for _, de := range des {
		if !isKey(de.Name()) {
			continue
		}
		e, ok := s.readToken(de.Name(), "")
		if !ok || e.ExpiresAt.After(cutoff) {
			continue
		}
		if os.Remove(s.path(de.Name())) == nil {
			os.Remove(s.path(de.Name() + lockSuffix))
			n++
		}
	}
	return n
}
