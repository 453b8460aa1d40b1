package cache

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecodeEntry: decoding arbitrary bytes never panics, accepts only
// complete entries within the size limit, and whatever it accepts survives
// an encode/decode round trip unchanged.
func FuzzDecodeEntry(f *testing.F) {
	name := Key("fuzz")
	valid, err := encodeEntry(name, tok("reg.example", "cr_temp_user", "secret", t0, time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte(`{"v":2,"kind":"token","host":"h","secret":"s","expiresAt":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"kind":"lookup","expiresAt":"2030-01-01T00:00:00Z","value":"x"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, ok := decodeEntry(name, data)
		if !ok {
			if e != (Entry{}) {
				t.Fatalf("rejected input returned %v", e)
			}
			return
		}
		if len(data) > maxEntrySize || e.Host == "" || e.Secret == "" || e.ExpiresAt.IsZero() {
			t.Fatalf("accepted an incomplete entry: %v (%d bytes)", e, len(data))
		}
		enc, err := encodeEntry(name, e)
		if err != nil {
			// Only the size limit may differ: JSON escaping can grow the text.
			if len(data) > maxEntrySize/8 {
				return
			}
			t.Fatalf("cannot re-encode an accepted entry: %v", err)
		}
		e2, ok := decodeEntry(name, enc)
		if !ok || !sameEntry(e, e2) {
			t.Fatalf("round trip changed the entry: %v -> %v", e, e2)
		}
		enc2, _ := encodeEntry(name, e2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
