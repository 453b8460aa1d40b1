package cache

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFresh(t *testing.T) {
	const th = 5 * time.Minute
	long := tok("h", "u", "s", t0, 12*time.Hour)    // normal rule
	short := tok("h", "u", "s", t0, 6*time.Minute)  // life < 2×th: half-life rule
	exact := tok("h", "u", "s", t0, 10*time.Minute) // life == 2×th: both rules agree
	noFetched := long
	noFetched.FetchedAt = time.Time{}
	noExpiry := long
	noExpiry.ExpiresAt = time.Time{}
	skew := tok("h", "u", "s", t0.Add(time.Hour), time.Hour) // fetched "in the future", expires at t0+2h

	tests := []struct {
		name       string
		e          Entry
		now        time.Time
		threshold  time.Duration
		fresh      bool
		valid      bool
		wantCached bool
	}{
		{"long: just fetched", long, t0, th, true, true, true},
		{"long: 1ns before boundary", long, long.ExpiresAt.Add(-th - 1), th, true, true, true},
		{"long: exactly at boundary", long, long.ExpiresAt.Add(-th), th, false, true, false},
		{"long: inside threshold", long, long.ExpiresAt.Add(-time.Minute), th, false, true, false},
		{"long: 1ns before expiry", long, long.ExpiresAt.Add(-1), th, false, true, false},
		{"long: exactly at expiry", long, long.ExpiresAt, th, false, false, false},
		{"long: expired", long, long.ExpiresAt.Add(time.Hour), th, false, false, false},
		{"long: threshold 0 until expiry", long, long.ExpiresAt.Add(-1), 0, true, true, true},
		{"long: negative threshold is 0", long, long.ExpiresAt.Add(-1), -time.Hour, true, true, true},
		{"long: huge threshold, half-life rule", long, t0.Add(6*time.Hour - 1), math.MaxInt64, true, true, true},
		{"long: huge threshold, past half", long, t0.Add(6 * time.Hour), math.MaxInt64, false, true, false},
		{"short: just fetched", short, t0, th, true, true, true},
		{"short: 1ns before half-life", short, t0.Add(3*time.Minute - 1), th, true, true, true},
		{"short: exactly at half-life", short, t0.Add(3 * time.Minute), th, false, true, false},
		{"short: after half-life", short, t0.Add(5 * time.Minute), th, false, true, false},
		{"short: expired", short, t0.Add(6 * time.Minute), th, false, false, false},
		{"2×threshold: 1ns before half", exact, t0.Add(5*time.Minute - 1), th, true, true, true},
		{"2×threshold: at half", exact, t0.Add(5 * time.Minute), th, false, true, false},
		{"no FetchedAt: normal rule", noFetched, noFetched.ExpiresAt.Add(-th - 1), th, true, true, true},
		{"no FetchedAt: at boundary", noFetched, noFetched.ExpiresAt.Add(-th), th, false, true, false},
		{"no ExpiresAt: never valid", noExpiry, t0, th, false, false, false},
		// Issue 20 §7: the clock stepped back after the fetch (a VM restored from a snapshot, an
		// NTP step): an entry fetched more than a minute "in the future" is stale, never served.
		{"clock an hour before FetchedAt", skew, t0, th, false, false, false},
		{"clock 61 s before FetchedAt", skew, skew.FetchedAt.Add(-61 * time.Second), th, false, false, false},
		{"clock 59 s before FetchedAt", skew, skew.FetchedAt.Add(-59 * time.Second), th, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Fresh(tt.now, tt.threshold); got != tt.fresh {
				t.Errorf("Fresh = %v, want %v", got, tt.fresh)
			}
			if got := tt.e.Valid(tt.now); got != tt.valid {
				t.Errorf("Valid = %v, want %v", got, tt.valid)
			}
			// The same decision through the store: a hit iff fresh; a valid
			// but not fresh entry is refreshed; an expired one is never served.
			s, clk := newTestStore(t)
			clk.Set(tt.now)
			key := Key(tt.name)
			if !tt.e.ExpiresAt.IsZero() {
				mustPut(t, s, key, tt.e)
			}
			fetched := tok("h", "u", "new", tt.now, 24*time.Hour)
			got, src, err := s.GetOrFetch(context.Background(), key, "h", tt.threshold, func(context.Context) (Entry, error) {
				return fetched, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if (src == SourceCache) != tt.wantCached {
				t.Fatalf("source = %v, want cached=%v", src, tt.wantCached)
			}
			if !got.Valid(tt.now) {
				t.Fatalf("GetOrFetch served an invalid token: %v", got)
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	const secret = "SUPER-SECRET-TOKEN"
	e := tok("reg.example", "user", secret, t0, time.Hour)
	var out []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v"} {
		out = append(out, fmt.Sprintf(f, e))
	}
	out = append(out, fmt.Sprint(e), fmt.Sprintln(&e), e.String(), e.GoString(), fmt.Sprintf("%v", []Entry{e}))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "entry", e)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "entry", e)
	out = append(out, buf.String())
	for _, o := range out {
		if strings.Contains(o, secret) {
			t.Fatalf("secret leaked: %s", o)
		}
		if !strings.Contains(o, "reg.example") && !strings.Contains(o, "cache.Entry") {
			t.Errorf("unhelpful formatting: %s", o)
		}
	}
	// Errors of the package never contain the secret either.
	s, _ := newTestStore(t)
	var errs []error
	_, _, err := s.GetOrFetch(context.Background(), Key("x"), "reg.example", time.Minute, func(context.Context) (Entry, error) {
		return tok("reg.example", "u", secret, t0.Add(-2*time.Hour), time.Hour), nil // expired
	})
	errs = append(errs, err)
	errs = append(errs, s.put(Key("y"), tok("reg.example", "u", secret+strings.Repeat("x", maxEntrySize), t0, time.Hour)))
	errs = append(errs, s.put(Key("y"), Entry{Secret: secret}))
	errs = append(errs, s.put(Key("y"), Entry{Host: "h", Secret: secret}))
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("error %v", err)
		}
	}
}

func TestSourceString(t *testing.T) {
	for src, want := range map[Source]string{SourceNone: "none", SourceCache: "cache", SourceFetched: "fetched", SourceStale: "stale", Source(9): "Source(9)"} {
		if src.String() != want {
			t.Errorf("%d: %q", int(src), src.String())
		}
	}
}
