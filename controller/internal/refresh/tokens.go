package refresh

import (
	"context"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
)

// tokenState is what the controller knows of one registry's token.
type tokenState struct {
	token    Token
	have     bool
	fetched  time.Time
	failures int
	retryAt  time.Time // after a failure
}

const (
	minRetry   = 5 * time.Second
	minRefresh = 10 * time.Second
	maxRetry   = 2 * time.Minute
	// tick bounds a sleep, so that a clock jump (a suspended VM) delays a refresh by at most this.
	tick = 15 * time.Second
)

// due says when a registry's token must be fetched: now if there is none; at cache.RefreshAt (the
// helper's rule: expiringThreshold before it expires, halfway through a life shorter than twice
// the threshold), never sooner than minRefresh after the fetch; after a failure,
// at the retry time with exponential backoff, but never later than that refresh time.
func (st *tokenState) due(threshold time.Duration) time.Time {
	if st == nil || !st.have {
		if st != nil && !st.retryAt.IsZero() {
			return st.retryAt
		}
		return time.Time{}
	}
	at := cache.RefreshAt(st.fetched, st.token.ExpiresAt, threshold) // the helper's rule
	if soonest := st.fetched.Add(minRefresh); at.Before(soonest) && soonest.Before(st.token.ExpiresAt) {
		at = soonest // never a hot loop of fetches
	}
	if st.failures > 0 && st.retryAt.After(at) {
		return st.retryAt
	}
	return at
}

func (c *Controller) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// refreshLoop fetches each registry's token when it is due: one call per registry, whatever the
// number of namespaces, then requeues every namespace.
func (c *Controller) refreshLoop(ctx context.Context) {
	for {
		s, _ := c.snapshot()
		now := c.now()
		next := now.Add(tick)
		changed := false
		for _, r := range s.Registries {
			c.mu.Lock()
			st := c.tokens[r.Key]
			at := st.due(s.Threshold)
			c.mu.Unlock()
			if at.After(now) {
				if at.Before(next) {
					next = at
				}
				continue
			}
			if c.fetch(ctx, r) {
				changed = true
			}
			c.mu.Lock()
			if st := c.tokens[r.Key]; st != nil {
				if at := st.due(s.Threshold); at.Before(next) {
					next = at
				}
			}
			c.mu.Unlock()
		}
		if changed {
			c.enqueueAll()
		}
		wait := time.Until(next)
		if wait < 100*time.Millisecond {
			wait = 100 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// fetch gets one registry's token and records the outcome; it reports whether a new token came.
func (c *Controller) fetch(ctx context.Context, r Registry) bool {
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	t, err := r.Fetch(fctx)
	cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Err() != nil {
		return false
	}
	if !c.configured(r.Key) {
		return false // removed by a reload meanwhile
	}
	st := c.tokens[r.Key]
	if st == nil {
		st = &tokenState{}
		c.tokens[r.Key] = st
	}
	now := c.now()
	if err == nil && !t.ExpiresAt.After(now) {
		err = errExpired
	}
	if err != nil {
		st.failures++
		backoff := minRetry << min(st.failures-1, 5)
		st.retryAt = now.Add(min(backoff, maxRetry))
		c.log().Warn("fetching the ACR login failed; retrying", "registry", r.Name, "retry_in", min(backoff, maxRetry).String(), "error", err.Error())
		c.Metrics.refreshed(r.Name, err)
		return false
	}
	*st = tokenState{token: t, have: true, fetched: now}
	c.log().Info("fetched the ACR login", "registry", r.Name, "username", t.Username, "expires", t.ExpiresAt.UTC().Format(time.RFC3339), "hosts", max(len(r.Hosts), len(t.Hosts)))
	c.Metrics.refreshed(r.Name, nil)
	c.Metrics.setExpiry(r.Name, t.ExpiresAt)
	return true
}

func (c *Controller) configured(key string) bool {
	for _, r := range c.settings.Registries {
		if r.Key == key {
			return true
		}
	}
	return false
}

type expiredError struct{}

func (expiredError) Error() string {
	return "ACR returned a login that has already expired: check this machine's clock"
}

var errExpired error = expiredError{}
