package cache

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// staleTempAge is the age after which a temporary file is considered left
// behind by a killed writer and removed.
const staleTempAge = time.Minute

// bufPool holds read buffers one byte larger than the largest entry, so
// that an oversize file is detected by filling the buffer.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, maxEntrySize+1)
	return &b
}}

// readEntryFile reads the entry file name without following a symlink.
// Anything but a regular file of at most maxEntrySize bytes is a miss. The
// returned bytes are valid until release is called.
func (s *Store) readEntryFile(name string) (data []byte, release func(), ok bool) {
	bp := bufPool.Get().(*[]byte)
	release = func() { bufPool.Put(bp) }
	data, ok = s.d.readFileInto(name, *bp)
	if !ok {
		release()
		return nil, nil, false
	}
	return data, release, true
}

// writeAtomic replaces the file name with data, durably: it writes a
// temporary file in the same directory (O_EXCL, 0600), fsyncs and closes it,
// renames it over name and fsyncs the directory. rename replaces a symlink
// at name rather than writing through it. For what is the only copy: the
// login store, the erase log.
func (s *Store) writeAtomic(name string, data []byte) error {
	if err := s.write(name, data, true); err != nil {
		return err
	}
	s.cleanTemps()
	return nil
}

// writeCacheFile replaces the cache file name with data as writeAtomic does,
// without the two fsyncs (a millisecond or more of every cold get, far more
// on a busy disk). Readers still see the complete old or the complete new
// file (rename); after a crash the new one may be lost, empty or cut short,
// which decodes as a miss, and an entry names the key it was written for, so
// blocks of another file under its name are a miss too: never served. A
// cache entry lost is fetched again. Temporary files left by killed writers
// are cleaned by prune.
func (s *Store) writeCacheFile(name string, data []byte) error {
	return s.write(name, data, false)
}

func (s *Store) write(name string, data []byte, durable bool) (err error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp := tmpPrefix + hex.EncodeToString(rnd[:])
	f, err := s.d.createExcl(tmp, 0o600)
	if err != nil {
		return fmt.Errorf("cache: create temporary file: %w", err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			s.d.remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("cache: write temporary file: %w", err)
	}
	if durable {
		if s.syncHook != nil {
			s.syncHook(name)
		}
		if err = f.Sync(); err != nil {
			return fmt.Errorf("cache: sync temporary file: %w", err)
		}
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("cache: close temporary file: %w", err)
	}
	if err = s.d.rename(tmp, name); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if durable {
		if s.syncHook != nil {
			s.syncHook(".")
		}
		s.d.sync()
	}
	return nil
}

// cleanTemps removes temporary files older than staleTempAge, left behind
// by writers that were killed. Errors are ignored.
func (s *Store) cleanTemps() {
	names, _ := s.d.names()
	cutoff := time.Now().Add(-staleTempAge)
	for _, name := range names {
		if !strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		if _, mtime, err := s.d.stat(name); err == nil && mtime.Before(cutoff) {
			s.d.remove(name)
		}
	}
}
