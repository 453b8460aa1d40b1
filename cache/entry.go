package cache

import (
	"fmt"
	"log/slog"
	"time"
)

// Entry is a cached registry token.
//
// Entry redacts Secret when formatted with fmt (any verb) or logged with
// log/slog, so it can be logged safely.
type Entry struct {
	Host      string    // registry host the token is for
	Username  string    // registry user name
	Secret    string    // registry password / token
	ExpiresAt time.Time // the token must not be used at or after this instant
	FetchedAt time.Time // when the token was obtained
	// Lasting says that the secret outlives ExpiresAt (a password read from KMS, which keeps
	// working after the entry's TTL): the entry is removed as soon as it expires, by the first
	// run of the helper after that, never kept for a day as expired tokens are.
	Lasting bool
}

// futureSkew is how far in the future an entry's fetch time may lie (two
// machines' clocks, a small NTP slew) before the entry counts as stale.
const futureSkew = time.Minute

// Valid reports whether the token may still be used at now, i.e. now is
// strictly before ExpiresAt. An entry without expiry is not valid. Nor is one
// fetched after now plus a minute: the clock stepped back since (a VM
// restored from a snapshot, an NTP step), so its expiry, measured from the
// fetch on the clock of then, says nothing about whether the token still
// lives.
func (e Entry) Valid(now time.Time) bool {
	if !e.FetchedAt.IsZero() && e.FetchedAt.After(now.Add(futureSkew)) {
		return false
	}
	return !e.ExpiresAt.IsZero() && now.Before(e.ExpiresAt)
}

// Fresh reports whether the token is good enough to be served from the cache
// without refreshing it: it is valid and its refresh time (RefreshAt: threshold
// before ExpiresAt, or halfway through a life shorter than 2×threshold) has not
// come. At the boundary the token is no longer fresh.
func (e Entry) Fresh(now time.Time, threshold time.Duration) bool {
	return e.Valid(now) && now.Before(RefreshAt(e.FetchedAt, e.ExpiresAt, threshold))
}

// String describes the entry without its secret.
func (e Entry) String() string {
	secret := "<empty>"
	if e.Secret != "" {
		secret = "<redacted>"
	}
	lasting := ""
	if e.Lasting {
		lasting = " Lasting"
	}
	return fmt.Sprintf("{Host:%s Username:%s Secret:%s ExpiresAt:%s FetchedAt:%s%s}",
		e.Host, e.Username, secret,
		e.ExpiresAt.Format(time.RFC3339), e.FetchedAt.Format(time.RFC3339), lasting)
}

// GoString is like String; it never prints the secret.
func (e Entry) GoString() string { return "cache.Entry" + e.String() }

// Format implements fmt.Formatter so that no verb prints the secret.
func (e Entry) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, e.GoString())
		return
	}
	fmt.Fprint(f, e.String())
}

// LogValue implements slog.LogValuer so that slog never logs the secret.
func (e Entry) LogValue() slog.Value { return slog.StringValue(e.String()) }
