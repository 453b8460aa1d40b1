// Package terminal makes text from the network safe to show on a terminal (standard library only,
// so that every package, config and secrets included, can use it without linking an SDK).
package terminal

import (
	"strings"
	"unicode/utf8"
)

// Strip removes what a terminal would act on from text that came from the network (an
// API's error Message, a transport error): ESC sequences whole (CSI "ESC [ … final", OSC
// "ESC ] … BEL|ST", DCS/SOS/PM/APC "ESC P|X|^|_ … ST", two-byte "ESC x"), the 8-bit CSI and the
// other C0 and C1 controls, DEL, and the Unicode bidi controls that reorder what is shown (so
// that a message cannot hide or fake text). Newlines and tabs stay; a carriage return becomes a
// space; invalid UTF-8 becomes U+FFFD. cloudapi.Scrub calls it, so every error and log line gets it.
func Strip(s string) string {
	if !HasControls(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b: // ESC: skip the whole sequence
			i += n + escapeLen(s[i+n:])
			continue
		case r == 0x9b: // 8-bit CSI: parameters and a final byte follow
			i += n + csiLen(s[i+n:])
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // 8-bit DCS, SOS, OSC, PM, APC
			i += n + stringLen(s[i+n:])
			continue
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || bidiControl(r):
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// HasControls reports whether s holds anything Strip would remove or change.
func HasControls(s string) bool {
	return !clean(s)
}

// clean reports whether s has nothing Strip would change (the usual case).
func clean(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError || bidiControl(r) {
			return false
		}
	}
	return true
}

// bidiControl: the marks, embeddings, overrides and isolates of Unicode's bidirectional algorithm.
func bidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// escapeLen is the length of the rest of an ESC sequence whose ESC was just read.
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		return 1 + csiLen(s[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + stringLen(s[1:])
	}
	if s[0] >= 0x20 && s[0] <= 0x2f { // intermediate bytes, then one final byte
		i := 0
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	}
	if s[0] >= 0x30 && s[0] <= 0x7e {
		return 1
	}
	return 0
}

// csiLen is the length of a control sequence's parameters, intermediates and final byte.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		case c < 0x20 || c > 0x7e:
			return i // not a well-formed sequence: stop, what follows is handled as text
		}
	}
	return len(s)
}

// stringLen is the length of a control string's body and its terminator (BEL, ESC \ or the 8-bit
// ST). Without a terminator only the introducer is dropped: the rest is shown as the harmless text
// it then is, rather than swallowing the end of the message.
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0x1b:
			return 0
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
	}
	return 0
}
