package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Names in the cache directory besides the token entries, which are named
// by their key alone.
const (
	lookupSuffix = ".lookup"
	lockSuffix   = ".lock"
	tmpPrefix    = ".tmp-"
)

// Key derives a cache key (64 lower-case hex digits) from parts: SHA-256 over
// the length-prefixed parts, so ("ab","c") and ("a","bc") differ.
func Key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// isKey reports whether s looks like a key returned by Key.
func isKey(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !isKey(key) {
		return fmt.Errorf("cache: invalid key %q (want cache.Key output)", key)
	}
	return nil
}
