package cache

import (
	"testing"
	"time"
)

func TestRefreshAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		fetched   time.Time
		life      time.Duration
		threshold time.Duration
		want      time.Duration // after t0
	}{
		{"an hour's token, 15m threshold", t0, time.Hour, 15 * time.Minute, 45 * time.Minute},
		{"life exactly 2x threshold", t0, 30 * time.Minute, 15 * time.Minute, 15 * time.Minute},
		{"short token: halfway", t0, 20 * time.Minute, 15 * time.Minute, 10 * time.Minute},
		{"threshold longer than life: halfway", t0, 10 * time.Minute, time.Hour, 5 * time.Minute},
		{"no threshold", t0, time.Hour, 0, time.Hour},
		{"negative threshold is none", t0, time.Hour, -time.Minute, time.Hour},
		{"unknown fetch time", time.Time{}, time.Hour, 15 * time.Minute, 45 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RefreshAt(tt.fetched, t0.Add(tt.life), tt.threshold)
			if want := t0.Add(tt.want); !got.Equal(want) {
				t.Errorf("RefreshAt = %v, want %v", got.Sub(t0), tt.want)
			}
			e := Entry{FetchedAt: tt.fetched, ExpiresAt: t0.Add(tt.life)}
			if e.Fresh(got, tt.threshold) || (got.After(t0) && !e.Fresh(got.Add(-time.Nanosecond), tt.threshold)) {
				t.Errorf("Fresh disagrees with RefreshAt at %v", got.Sub(t0))
			}
		})
	}
}
