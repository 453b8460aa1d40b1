package cache

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// eraseLogName is the erase log: every Remove and RemoveHost appends a line
// naming what it erases ("k <key>" or "h <Key(host)>", fixed length, with
// O_APPEND) before removing entries.
//
// `docker logout` must win over a fetch that started before it. GetOrFetch
// notes the log's end under the key's lock before calling fetch; after
// writing the entry it reads the log from there, and if its key or its
// token's host was erased meanwhile, it removes the entry it has just
// written (it still holds the lock, so the entry is its own). The two sides
// run in opposite orders (erase: log, then remove; fetch: write, then read
// the log), so whatever the interleaving, the entry is gone once both have
// finished: either the erase's removal comes after the write and removes
// it, or it comes before, and then so did the log line, which the fetch
// reads. The fetch's caller still gets its token (its get started before
// the logout); only the cache forgets it. Erases of other keys and hosts do
// not affect the fetch.
//
// prune starts a new log when it grows past maxEraseLog; a fetch that sees
// the log replaced cannot tell what was erased and does not keep its entry.
const eraseLogName = ".erase-log"

// maxEraseLog is the size past which prune starts a new erase log (about
// a thousand logouts).
const maxEraseLog = 64 << 10

// eraseMark is a position in the erase log.
type eraseMark struct {
	fi   os.FileInfo // nil: there was no log
	size int64
}

func eraseLine(kind, id string) string { return kind + " " + id + "\n" }

func hostID(host string) string { return Key("erase-host", strings.ToLower(host)) }

// logErase appends what is about to be erased to the erase log. An error
// means that a fetch in progress may still write its token afterwards.
func (s *Store) logErase(kind, id string) error {
	f, err := s.d.openAppend(eraseLogName)
	if err == nil {
		_, err = f.Write([]byte(eraseLine(kind, id)))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("cache: a fetch in progress may still cache its token after this logout: %w", err)
	}
	return nil
}

// eraseMark returns the current end of the erase log.
func (s *Store) eraseMark() eraseMark {
	f, err := s.d.openRead(eraseLogName)
	if err != nil {
		return eraseMark{}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return eraseMark{}
	}
	return eraseMark{fi: fi, size: fi.Size()}
}

// erasedSince reports whether key or host was erased after m, or whether
// that cannot be told (the log was replaced or cannot be read).
func (s *Store) erasedSince(m eraseMark, key, host string) bool {
	f, err := s.d.openRead(eraseLogName)
	if err != nil {
		return m.fi != nil || !os.IsNotExist(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return true
	}
	var start int64
	if m.fi != nil {
		if !os.SameFile(m.fi, fi) || fi.Size() < m.size {
			return true
		}
		start = m.size
	}
	n := fi.Size() - start
	if n > maxEraseLog {
		return true
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return true
	}
	text := string(buf)
	return strings.Contains(text, eraseLine("k", key)) || (host != "" && strings.Contains(text, eraseLine("h", hostID(host))))
}

// rotateEraseLog starts a new erase log when the current one is large.
func (s *Store) rotateEraseLog() {
	if m := s.eraseMark(); m.fi != nil && m.size > maxEraseLog {
		s.writeAtomic(eraseLogName, nil)
	}
}
