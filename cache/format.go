package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const (
	formatVersion = 1
	kindToken     = "token"
	kindLasting   = "lasting" // a token entry whose secret outlives its expiry (Entry.Lasting)
	kindLookup    = "lookup"

	// maxEntrySize is the largest entry file that is read or written.
	maxEntrySize = 64 << 10
)

// tokenFile is the on-disk form of a token entry. Times are RFC 3339 with
// nanoseconds, in UTC.
type tokenFile struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	// Key is the name the entry was written under: an entry read under another name (a file
	// copied or moved there, or blocks of another file after a crash) is a miss, never served.
	Key       string    `json:"key"`
	Host      string    `json:"host"`
	Username  string    `json:"username"`
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expiresAt"`
	FetchedAt time.Time `json:"fetchedAt"`
}

// lookupFile is the on-disk form of a lookup value.
type lookupFile struct {
	V         int             `json:"v"`
	Kind      string          `json:"kind"`
	Key       string          `json:"key"` // as in tokenFile
	ExpiresAt time.Time       `json:"expiresAt"`
	FetchedAt time.Time       `json:"fetchedAt"`
	Value     json.RawMessage `json:"value"`
}

// encodeEntry returns the content of the file name for e. Errors never
// contain the secret.
func encodeEntry(name string, e Entry) ([]byte, error) {
	if e.Host == "" {
		return nil, errors.New("cache: refusing to store a token without host")
	}
	if e.ExpiresAt.IsZero() {
		return nil, fmt.Errorf("cache: refusing to store a token for %s without expiry", e.Host)
	}
	kind := kindToken
	if e.Lasting {
		kind = kindLasting
	}
	data, err := json.Marshal(tokenFile{
		V:         formatVersion,
		Kind:      kind,
		Key:       name,
		Host:      e.Host,
		Username:  e.Username,
		Secret:    e.Secret,
		ExpiresAt: e.ExpiresAt.UTC(),
		FetchedAt: e.FetchedAt.UTC(),
	})
	if err != nil {
		// Only the times can fail to encode (year outside 0..9999); the
		// error names the time, not the secret.
		return nil, fmt.Errorf("cache: encode token for %s: %w", e.Host, err)
	}
	if len(data) > maxEntrySize {
		return nil, fmt.Errorf("cache: token entry for %s is too large (%d bytes, limit %d)", e.Host, len(data), maxEntrySize)
	}
	return data, nil
}

// Fits reports whether e can be stored: its entry file, the secret JSON-encoded, is within the
// 64 KiB limit (a caller warns rather than paying a fetch at every call in silence). Every key
// has the same length, so any key measures it.
func Fits(e Entry) bool {
	_, err := encodeEntry(Key("fits"), e)
	return err == nil
}

// MaxEntrySize is the largest entry file the cache writes.
const MaxEntrySize = maxEntrySize

// decodeEntry decodes the token entry file name. Anything but a complete
// token entry of the current format version written under that name is
// rejected (a cache miss).
func decodeEntry(name string, data []byte) (Entry, bool) {
	if len(data) > maxEntrySize {
		return Entry{}, false
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Entry{}, false
	}
	if f.V != formatVersion || (f.Kind != kindToken && f.Kind != kindLasting) || f.Key != name || f.Host == "" || f.Secret == "" ||
		f.ExpiresAt.IsZero() || !encodable(f.ExpiresAt) || !encodable(f.FetchedAt) {
		return Entry{}, false
	}
	return Entry{
		Host:      f.Host,
		Username:  f.Username,
		Secret:    f.Secret,
		ExpiresAt: f.ExpiresAt.UTC(),
		FetchedAt: f.FetchedAt.UTC(),
		Lasting:   f.Kind == kindLasting,
	}, true
}

// encodable reports whether t, in UTC, can be written back (RFC 3339 needs
// a year in 0..9999; "0000-01-01T00:00:00+01:00" is year -1 in UTC).
func encodable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

func encodeLookup(name string, v any, fetchedAt, expiresAt time.Time) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: encode lookup value: %w", err)
	}
	data, err := json.Marshal(lookupFile{
		V:         formatVersion,
		Kind:      kindLookup,
		Key:       name,
		ExpiresAt: expiresAt.UTC(),
		FetchedAt: fetchedAt.UTC(),
		Value:     raw,
	})
	if err != nil {
		return nil, fmt.Errorf("cache: encode lookup: %w", err)
	}
	if len(data) > maxEntrySize {
		return nil, fmt.Errorf("cache: lookup entry is too large (%d bytes, limit %d)", len(data), maxEntrySize)
	}
	return data, nil
}

func decodeLookup(name string, data []byte) (json.RawMessage, time.Time, bool) {
	if len(data) > maxEntrySize {
		return nil, time.Time{}, false
	}
	var f lookupFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, time.Time{}, false
	}
	if f.V != formatVersion || f.Kind != kindLookup || f.Key != name || f.ExpiresAt.IsZero() || !encodable(f.ExpiresAt) || len(f.Value) == 0 {
		return nil, time.Time{}, false
	}
	return f.Value, f.ExpiresAt, true
}
