package terminal

import (
	"testing"
)

func TestStripControls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, 中文, café", "plain text, 中文, café"},
		{"denied\x1b]0;pwned\x07\x1b[2Jend", "deniedend"},
		{"a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"red \x1b[1;31mhot\x1b[0m", "red hot"},
		{"keypad \x1b=x \x1b(Bz", "keypad x z"},
		{"csi8 \u009b2Jx", "csi8 x"},
		{"osc8 \u009d0;t\u009cx", "osc8 x"},
		{"bidi \u202eabc\u202c \u2066d\u2069 \u200f", "bidi abc d "},
		{"bell\x07 bs\x08 del\x7f nul\x00", "bell bs del nul"},
		{"cr\rover", "cr over"},
		{"line1\nline2\ttab", "line1\nline2\ttab"},
		{"unterminated \x1b]0;title", "unterminated 0;title"},
		{"bad utf8 \xff\x9b2J", "bad utf8 \uFFFD2J"},
		{"trailing esc\x1b", "trailing esc"},
	}
	for _, tt := range tests {
		if got := Strip(tt.in); got != tt.want {
			t.Errorf("Strip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
