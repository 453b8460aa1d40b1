package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// A token is replaced expiringThreshold before it expires: with 100 s tokens and a 70 s threshold
// the new login is written about 30 s after the first, long before the first expires.
func TestRefreshBeforeExpiry(t *testing.T) {
	w := newWorld(t)
	const lifetime, threshold = 100 * time.Second, 70 * time.Second
	w.fc.SetTokenLifetime(lifetime)
	createNamespaces(t, "rf-a")
	w.writeConfig(w.config(fmt.Sprintf("watchNamespace: rf-a\nexpiringThreshold: %s", threshold), teamEntry))
	r := w.startController(nil)
	var first pullAuth
	waitFor(t, "the first login", func() (bool, string) {
		a, _ := secretAuths(t, "rf-a")
		first = a[teamHosts[0]]
		return first.Password != "", "no Secret yet"
	})
	firstIssued := w.fc.IssuedTokens()[0]
	var changedAt time.Time
	waitFor(t, "the refreshed login", func() (bool, string) {
		a, _ := secretAuths(t, "rf-a")
		if p := a[teamHosts[0]].Password; p != "" && p != first.Password {
			changedAt = time.Now()
			return true, ""
		}
		return false, "still the first login"
	})
	toks := w.fc.IssuedTokens()
	second := toks[len(toks)-1]
	margin := firstIssued.ExpiresAt.Sub(second.Time)
	late := second.Time.Sub(firstIssued.ExpiresAt.Add(-threshold))
	t.Logf("refresh margin: the new token was fetched %.1fs before the old one expired (threshold %s: %.1fs late); written to the Secret %.1fs before expiry",
		margin.Seconds(), threshold, late.Seconds(), firstIssued.ExpiresAt.Sub(changedAt).Seconds())
	if !changedAt.Before(firstIssued.ExpiresAt) {
		t.Errorf("the Secret changed at %s, after the old login expired at %s", changedAt.Format(time.RFC3339), firstIssued.ExpiresAt.Format(time.RFC3339))
	}
	// The helper measures a token's life on the service's clock (its Date header has whole
	// seconds and is counted up to a second late), so the due time may come up to 1 s early.
	if second.Time.Before(firstIssued.ExpiresAt.Add(-threshold - time.Second)) {
		t.Errorf("refreshed at %s, before the threshold (%s)", second.Time, firstIssued.ExpiresAt.Add(-threshold))
	}
	if f := os.Getenv("CONTROLLER_FIGURES"); f != "" {
		appendFigure(t, f, fmt.Sprintf("refresh margin: fetched %.1fs before expiry with a %s threshold (%.1fs after the due time)", margin.Seconds(), threshold, late.Seconds()))
	}
	_, body := r.get("/metrics")
	m := regexp.MustCompile(`acr_credential_controller_token_expiry_seconds\{registry="[^"]*"\} ([0-9.e+-]+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token_expiry_seconds metric")
	}
	if left, err := strconv.ParseFloat(m[1], 64); err != nil || left <= 0 || left > lifetime.Seconds() {
		t.Errorf("token_expiry_seconds %s, want within (0, %v]", m[1], lifetime.Seconds())
	}
}

// A failing fetch is retried with backoff until it works.
func TestRefreshFailureRetried(t *testing.T) {
	w := newWorld(t)
	createNamespaces(t, "rf-fail")
	w.fc.InjectPersistent("GetAuthorizationToken", fakecloud.FaultStatus(503))
	w.writeConfig(w.config("watchNamespace: rf-fail", teamEntry))
	r := w.startController(nil)
	waitFor(t, "a failure counted", func() (bool, string) {
		_, body := r.get("/metrics")
		return strings.Contains(body, "acr_credential_controller_token_refresh_failures_total{"), "no failure metric"
	})
	if a, _ := secretAuths(t, "rf-fail"); a != nil {
		t.Fatal("a Secret without a login")
	}
	w.fc.ClearFaults("GetAuthorizationToken")
	waitFor(t, "the login after the failures", func() (bool, string) {
		a, _ := secretAuths(t, "rf-fail")
		return len(a) == 3, fmt.Sprint(len(a))
	})
}

func appendFigure(t *testing.T, path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	must(t, err)
	defer f.Close()
	fmt.Fprintln(f, line)
}
