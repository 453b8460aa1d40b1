package keychain

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// skewedClock puts the fake behind a server whose clock is off by skew: the answer's Date header
// and the token's expiry (data.expireDate, ExpireTime) are the fake's plus skew, as a real
// service with that clock would state them. expiry, if set, replaces the stated expiry (an
// absurd one); noDate drops the Date header.
type skewedClock struct {
	fc     *fakecloud.Server
	skew   time.Duration
	expiry time.Time
	noDate bool
}

func (s skewedClock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.fc.Handler().ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	date := time.Now().Add(s.skew)
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		shift := func(v any) any {
			ms, ok := v.(float64)
			if !ok {
				return v
			}
			if !s.expiry.IsZero() {
				return s.expiry.UnixMilli()
			}
			// The service answers when it issued the token (its clock is the fake's plus skew).
			if toks := s.fc.IssuedTokens(); len(toks) > 0 {
				date = toks[len(toks)-1].Time.Add(s.skew)
			}
			return time.UnixMilli(int64(ms)).Add(s.skew).UnixMilli()
		}
		if d, ok := m["data"].(map[string]any); ok {
			d["expireDate"] = shift(d["expireDate"])
		}
		if _, ok := m["ExpireTime"]; ok {
			m["ExpireTime"] = shift(m["ExpireTime"])
		}
		var buf bytes.Buffer
		json.NewEncoder(&buf).Encode(m)
		body = buf.Bytes()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	if s.noDate {
		w.Header()["Date"] = nil // net/http adds none then
	} else {
		w.Header().Set("Date", date.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// TestTokenLifeMeasuredAgainstTheServersClock: a token's life is its stated expiry minus the
// answer's Date, applied to the local clock, so a local clock hours ahead of or behind the
// service's neither serves an expired token nor refuses a good one; and no expiry is trusted
// past 12 hours (a year-9999 expiry was cached forever).
func TestTokenLifeMeasuredAgainstTheServersClock(t *testing.T) {
	t.Parallel()
	year9999 := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name  string
		clock skewedClock
		host  string
		life  time.Duration // wanted life from local now
	}{
		{"service clock 3h ahead (local clock behind)", skewedClock{skew: 3 * time.Hour}, "registry.cn-hangzhou.aliyuncs.com", time.Hour},
		{"service clock 3h behind (local clock ahead)", skewedClock{skew: -3 * time.Hour}, "registry.cn-hangzhou.aliyuncs.com", time.Hour},
		{"enterprise, service clock 5h ahead", skewedClock{skew: 5 * time.Hour}, "team-registry.cn-beijing.cr.aliyuncs.com", time.Hour},
		{"year-9999 expiry", skewedClock{expiry: year9999}, "registry.cn-hangzhou.aliyuncs.com", 12 * time.Hour},
		{"year-9999 expiry, no Date header", skewedClock{expiry: year9999, noDate: true}, "registry.cn-hangzhou.aliyuncs.com", 12 * time.Hour},
		{"no Date header", skewedClock{noDate: true}, "registry.cn-hangzhou.aliyuncs.com", time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.useAK(t, devAK, devSK)
			tt.clock.fc = w.fc
			srv := httptest.NewServer(tt.clock)
			t.Cleanup(srv.Close)
			k := w.keychain(t)
			k.Config.Endpoints.CR = srv.URL
			before := time.Now()
			l, err := k.Login(ctx(t), tt.host)
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			// The Date header has whole seconds, so the helper counts it as up to 1s late: the life
			// may read up to 1s short, never long.
			lo, hi := before.Add(tt.life-time.Second), after.Add(tt.life)
			if l.ExpiresAt.Before(lo) || l.ExpiresAt.After(hi) {
				t.Errorf("expires %s, want within [%s, %s] (life %v from now)", l.ExpiresAt.Format(time.RFC3339), lo.Format(time.RFC3339), hi.Format(time.RFC3339), tt.life)
			}
			// What is cached is the same expiry.
			k2 := w.keychain(t)
			k2.Config.Endpoints.CR = srv.URL
			l2, err := k2.Login(ctx(t), tt.host)
			if err != nil || l2.Source != "cache" || !l2.ExpiresAt.Equal(l.ExpiresAt) {
				t.Errorf("second get: %+v %v", l2, err)
			}
		})
	}
}
