package cache

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// eraseName is the file holding the erase generation: a random value that
// every Remove and RemoveHost replaces before removing entries.
//
// `docker logout` must win over a fetch that started before it. GetOrFetch
// reads the generation under the key's lock before calling fetch; after
// writing the entry it reads it again, and if it changed, removes the entry
// it has just written (it still holds the lock, so the entry is its own).
// The two sides run in opposite orders (erase: new generation, then remove;
// fetch: write, then check), so whatever the interleaving, the entry is gone
// once both have finished: either the erase's removal comes after the write
// and removes it, or it comes before, and then so did the new generation,
// which the fetch's check sees. The fetch's caller still gets its token (its
// get started before the logout); only the cache forgets it.
const eraseName = ".erase-generation"

// eraseGeneration returns the current erase generation ("" if none yet).
func (s *Store) eraseGeneration() string {
	data, release, ok := s.readEntryFile(eraseName)
	if !ok {
		return ""
	}
	defer release()
	return string(data)
}

// newEraseGeneration starts a new erase generation. An error means that a
// fetch in progress may still write its token after this erase.
func (s *Store) newEraseGeneration() error {
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := s.writeAtomic(eraseName, []byte(hex.EncodeToString(rnd[:]))); err != nil {
		return fmt.Errorf("cache: a fetch in progress may still cache its token after this logout: %w", err)
	}
	return nil
}
