package secrets

import (
	"testing"
	"time"
)

func TestCheckTTL(t *testing.T) {
	for _, tt := range []struct {
		in, want time.Duration // want 0: an error
	}{
		{0, 15 * time.Minute},
		{time.Second, time.Second},
		{30 * time.Minute, 30 * time.Minute},
		{time.Hour, time.Hour},
		{time.Hour + time.Second, 0},
		{500 * time.Millisecond, 0},
		{-time.Minute, 0},
	} {
		got, err := CheckTTL(tt.in)
		if tt.want == 0 {
			if err == nil {
				t.Errorf("CheckTTL(%s) = %s, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CheckTTL(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}
