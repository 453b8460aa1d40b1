package cache

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
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

// readEntryFile reads the entry file at path without following a symlink.
// Anything but a regular file of at most maxEntrySize bytes is a miss. The
// returned bytes are valid until release is called.
func readEntryFile(path string) (data []byte, release func(), ok bool) {
	bp := bufPool.Get().(*[]byte)
	release = func() { bufPool.Put(bp) }
	data, ok = readFileInto(path, *bp)
	if !ok {
		release()
		return nil, nil, false
	}
	return data, release, true
}

// writeAtomic replaces the file at path with data: it writes a temporary
// file in the same directory (O_EXCL, 0600), fsyncs and closes it, renames
// it over path and fsyncs the directory. rename replaces a symlink at path
// rather than writing through it.
func (s *Store) writeAtomic(path string, data []byte) (err error) {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp := s.path(tmpPrefix + hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return fmt.Errorf("cache: create temporary file: %w", err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("cache: write temporary file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("cache: sync temporary file: %w", err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("cache: close temporary file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	syncDir(s.dir)
	s.cleanTemps()
	return nil
}

// cleanTemps removes temporary files older than staleTempAge, left behind
// by writers that were killed. Errors are ignored.
func (s *Store) cleanTemps() {
	f, err := os.Open(s.dir)
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	cutoff := time.Now().Add(-staleTempAge)
	for _, name := range names {
		if !strings.HasPrefix(name, tmpPrefix) {
			continue
		}
		p := s.path(name)
		if fi, err := os.Lstat(p); err == nil && fi.ModTime().Before(cutoff) {
			os.Remove(p)
		}
	}
}
