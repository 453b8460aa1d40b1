package secrets

import (
	"fmt"
	"time"
)

// How long a login read from a secret is cached: a rotated secret is picked up within that
// time, and a burst of pulls makes one KMS call.
const (
	DefaultTTL = 15 * time.Minute
	maxTTL     = time.Hour
)

// CheckTTL validates a secretTTL setting (0 means DefaultTTL) and returns the TTL to use.
func CheckTTL(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return DefaultTTL, nil
	case d < time.Second:
		return 0, fmt.Errorf("secretTTL %s is too short: use a duration from 1s to %s (default %s)", d, maxTTL, DefaultTTL)
	case d > maxTTL:
		return 0, fmt.Errorf("secretTTL %s is longer than %s: a rotated secret must be picked up within the hour; use at most %s", d, maxTTL, maxTTL)
	}
	return d, nil
}
