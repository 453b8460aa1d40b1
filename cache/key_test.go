package cache

import (
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		same bool
	}{
		{"deterministic", []string{"host", "user"}, []string{"host", "user"}, true},
		{"boundary moves", []string{"ab", "c"}, []string{"a", "bc"}, false},
		{"empty part counts", []string{"a"}, []string{"a", ""}, false},
		{"no parts vs one empty part", nil, []string{""}, false},
		{"order matters", []string{"a", "b"}, []string{"b", "a"}, false},
		{"separator inside part", []string{"a\x00b"}, []string{"a", "b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := Key(tt.a...), Key(tt.b...)
			if !isKey(ka) || !isKey(kb) {
				t.Fatalf("not a key: %q %q", ka, kb)
			}
			if (ka == kb) != tt.same {
				t.Fatalf("Key(%q)=%s Key(%q)=%s, want same=%v", tt.a, ka, tt.b, kb, tt.same)
			}
		})
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("a", 63) + "g", "../" + strings.Repeat("a", 61), strings.Repeat("a", 65)} {
		if isKey(bad) {
			t.Errorf("isKey(%q) = true", bad)
		}
	}
}
