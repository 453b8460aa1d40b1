package cache

import "time"

// RefreshAt is the refresh-time rule, the one the helper's cache and the cluster-wide controller
// share: a token fetched at fetched and expiring at expires is refreshed threshold before it
// expires; a token whose whole life is shorter than 2×threshold is refreshed halfway through its
// life instead (so a short token is still used for a while). A zero fetched means the life is
// unknown: threshold before expiry.
func RefreshAt(fetched, expires time.Time, threshold time.Duration) time.Time {
	if threshold < 0 {
		threshold = 0
	}
	if !fetched.IsZero() {
		life := expires.Sub(fetched)
		// life/2 < threshold is life < 2*threshold without overflow.
		if life/2 < threshold {
			return fetched.Add(life / 2)
		}
	}
	return expires.Add(-threshold)
}
