// Package cache is the on-disk token cache of docker-credential-acr.
//
// Docker starts a new credential-helper process for every pull, so tokens
// are cached in files shared by all helper processes of one user. The
// package deals with files and locks only; it knows nothing about Alibaba
// Cloud.
//
// # Layout
//
// The cache lives in one directory (see [DefaultDir]) that must be owned by
// the current user and must not be writable by group or others. Inside it:
//
//	<key>          a token entry (JSON, mode 0600), key = [Key](...)
//	<key>.lookup   a non-secret lookup value with an expiry (JSON, 0600)
//	<key>.lock     the lock file serialising fetches of <key> (empty, 0600)
//	.tmp-*         temporary files of writes in progress
//
// Entries are written atomically (temporary file, fsync, rename, fsync of
// the directory), so a reader sees either the complete old or the complete
// new entry even if a writer is killed at any point. Entries are never
// opened through a symbolic link. Anything that cannot be decoded (corrupt,
// truncated, larger than 64 KiB, another format version, a symlink) is a
// cache miss and is replaced by the next write. Lock files are left in place:
// removing a lock file that another process may hold would break mutual
// exclusion.
//
// # Platforms
//
// On Unix, fetches are serialised with flock(2); on Windows with LockFileEx.
// On other platforms (and AIX) there is no cross-process lock: concurrent
// processes may fetch the same token twice, which is harmless. On Windows
// the ownership and permission checks of the directory are skipped (the
// default directory lives in the user's profile) and symlinks are detected
// with Lstat before opening rather than atomically with O_NOFOLLOW; a write
// can fail while another process has the entry open, which is reported
// through Store.OnError and retried on the next miss.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/adrg/xdg"
)

const (
	// EnvCacheDir overrides the cache directory.
	EnvCacheDir = "DOCKER_CREDENTIAL_ACR_CACHE_DIR"
	// EnvNoCache turns the cache off when set to a true value ("1").
	EnvNoCache = "DOCKER_CREDENTIAL_ACR_NO_CACHE"

	// appName is the name of the sub-directory of the XDG cache home.
	appName = "docker-credential-acr"

	formatVersion = 1
	kindToken     = "token"
	kindLookup    = "lookup"

	// maxEntrySize is the largest entry file that is read or written.
	maxEntrySize = 64 << 10

	lookupSuffix = ".lookup"
	lockSuffix   = ".lock"
	tmpPrefix    = ".tmp-"
	// staleTempAge is the age after which a temporary file is considered
	// left behind by a killed writer and removed.
	staleTempAge = time.Minute
)

// ErrUnsafeDir is matched (errors.Is) by the error Open returns when the
// cache directory is not private to the current user.
var ErrUnsafeDir = errors.New("unsafe cache directory")

// UnsafeDirError explains why a cache directory was rejected and how to fix
// it. It matches [ErrUnsafeDir].
type UnsafeDirError struct {
	Dir    string // the rejected directory
	Reason string // e.g. "is writable by group or others (mode drwxrwxrwx)"
	Fix    string // e.g. "run: chmod 700 /home/u/.cache/docker-credential-acr"
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("cache: not using cache directory %s: it %s; to fix, %s", e.Dir, e.Reason, e.Fix)
}

// Unwrap makes errors.Is(err, ErrUnsafeDir) true.
func (e *UnsafeDirError) Unwrap() error { return ErrUnsafeDir }

// Entry is a cached registry token.
//
// Entry redacts Secret when formatted with fmt (any verb) or logged with
// log/slog, so it can be logged safely.
type Entry struct {
	Host      string    // registry host the token is for
	Username  string    // registry user name
	Secret    string    // registry password / token
	ExpiresAt time.Time // the token must not be used at or after this instant
	FetchedAt time.Time // when the token was obtained
}

// Valid reports whether the token may still be used at now, i.e. now is
// strictly before ExpiresAt. An entry without expiry is not valid.
func (e Entry) Valid(now time.Time) bool {
	return !e.ExpiresAt.IsZero() && now.Before(e.ExpiresAt)
}

// Fresh reports whether the token is good enough to be served from the cache
// without refreshing it: more than threshold remains before ExpiresAt. For a
// token whose whole life (ExpiresAt-FetchedAt) is shorter than 2×threshold,
// it is fresh until half of its life has passed instead. At the boundary the
// token is no longer fresh. An invalid (expired) token is never fresh.
func (e Entry) Fresh(now time.Time, threshold time.Duration) bool {
	if !e.Valid(now) {
		return false
	}
	if threshold < 0 {
		threshold = 0
	}
	if !e.FetchedAt.IsZero() {
		life := e.ExpiresAt.Sub(e.FetchedAt)
		// life/2 < threshold is life < 2*threshold without overflow.
		if life/2 < threshold {
			return now.Before(e.FetchedAt.Add(life / 2))
		}
	}
	return e.ExpiresAt.Sub(now) > threshold
}

// String describes the entry without its secret.
func (e Entry) String() string {
	secret := "<empty>"
	if e.Secret != "" {
		secret = "<redacted>"
	}
	return fmt.Sprintf("{Host:%s Username:%s Secret:%s ExpiresAt:%s FetchedAt:%s}",
		e.Host, e.Username, secret,
		e.ExpiresAt.Format(time.RFC3339), e.FetchedAt.Format(time.RFC3339))
}

// GoString is like String; it never prints the secret.
func (e Entry) GoString() string { return "cache.Entry" + e.String() }

// Format implements fmt.Formatter so that no verb prints the secret.
func (e Entry) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, e.GoString())
		return
	}
	fmt.Fprint(f, e.String())
}

// LogValue implements slog.LogValuer so that slog never logs the secret.
func (e Entry) LogValue() slog.Value { return slog.StringValue(e.String()) }

// Source tells where GetOrFetch got its entry from.
type Source int

const (
	// SourceNone: no entry was returned (the error is fatal).
	SourceNone Source = iota
	// SourceCache: a fresh entry from the cache (possibly written by another
	// process that fetched it while this one waited for the lock).
	SourceCache
	// SourceFetched: fetch was called and succeeded.
	SourceFetched
	// SourceStale: refreshing failed (fetch error or lock wait cut short by
	// the context), but the old entry is still valid and is returned. The
	// error is returned too and should be shown as a warning.
	SourceStale
)

func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceCache:
		return "cache"
	case SourceFetched:
		return "fetched"
	case SourceStale:
		return "stale"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

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

// Disabled reports whether the cache is turned off with
// DOCKER_CREDENTIAL_ACR_NO_CACHE (any value except "", "0", "false", "no"
// and "off").
func Disabled() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(EnvNoCache))) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// DefaultDir returns the cache directory: $DOCKER_CREDENTIAL_ACR_CACHE_DIR
// if set (it must be absolute), else docker-credential-acr under the XDG
// cache home ($XDG_CACHE_HOME if it is an absolute path, else the platform
// default computed by github.com/adrg/xdg, e.g. ~/.cache).
//
// The environment is read on every call (xdg reads it only once, at init),
// so that tests can use t.Setenv.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvCacheDir); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("cache: %s=%q is not an absolute path", EnvCacheDir, d)
		}
		return filepath.Clean(d), nil
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		base = xdg.CacheHome
	}
	if base == "" || !filepath.IsAbs(base) {
		return "", fmt.Errorf("cache: cannot determine the cache directory; set %s", EnvCacheDir)
	}
	return filepath.Join(base, appName), nil
}

// OpenDefault opens the cache in DefaultDir. It returns (nil, nil) when the
// cache is Disabled; a nil *Store is usable and caches nothing.
func OpenDefault() (*Store, error) {
	if Disabled() {
		return nil, nil
	}
	dir, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	return Open(dir)
}

// Store is a cache directory. Its methods are safe for concurrent use by
// goroutines and processes. A nil *Store caches nothing: GetOrFetch just
// calls fetch, lookups miss, writes are no-ops.
type Store struct {
	dir string

	// Now, if set, replaces time.Now for expiry decisions (tests).
	Now func() time.Time
	// OnError, if set, receives non-fatal cache errors, e.g. a failed write
	// after a successful fetch. The errors never contain secrets.
	OnError func(error)
}

// Open creates dir (mode 0700, with parents) if needed and verifies that it
// is a directory owned by the current user and not writable by group or
// others. Otherwise it returns an *UnsafeDirError (errors.Is ErrUnsafeDir);
// the caller should warn and run without a cache.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory name")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: create directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		// A symlinked cache directory is allowed; its target is checked.
		resolved, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		if fi, err = os.Lstat(resolved); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		dir = resolved
	}
	if !fi.IsDir() {
		return nil, &UnsafeDirError{
			Dir:    dir,
			Reason: "is not a directory",
			Fix:    fmt.Sprintf("remove it or set %s to a private directory", EnvCacheDir),
		}
	}
	if err := checkDirSafe(dir, fi); err != nil {
		return nil, err
	}
	return &Store{dir: dir}, nil
}

// Dir returns the cache directory ("" for a nil Store).
func (s *Store) Dir() string {
	if s == nil {
		return ""
	}
	return s.dir
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) report(err error) {
	if s.OnError != nil && err != nil {
		s.OnError(err)
	}
}

func (s *Store) path(name string) string {
	return s.dir + string(os.PathSeparator) + name
}

// readToken reads the token entry of key. It does nothing but open, read
// and close the file (the hot path). If host is not empty, an entry for
// another host is a miss.
func (s *Store) readToken(key, host string) (Entry, bool) {
	data, release, ok := readEntryFile(s.path(key))
	if !ok {
		return Entry{}, false
	}
	e, ok := decodeEntry(data)
	release()
	if !ok || (host != "" && !strings.EqualFold(e.Host, host)) {
		return Entry{}, false
	}
	return e, true
}

// Get returns the token entry of key if it is present and still Valid.
func (s *Store) Get(key string) (Entry, bool) {
	if s == nil || !isKey(key) {
		return Entry{}, false
	}
	e, ok := s.readToken(key, "")
	if !ok || !e.Valid(s.now()) {
		return Entry{}, false
	}
	return e, true
}

// Put stores e as the token entry of key, atomically. e.Host must be set and
// e.ExpiresAt must not be zero.
func (s *Store) Put(key string, e Entry) error {
	if s == nil {
		return nil
	}
	if err := checkKey(key); err != nil {
		return err
	}
	data, err := encodeEntry(e)
	if err != nil {
		return err
	}
	return s.writeAtomic(s.path(key), data)
}

// GetOrFetch returns the token of key (for registry host) from the cache if
// it is Fresh for threshold. Otherwise it takes a cross-process lock on the
// key (waiting at most until ctx is done), checks the cache again (another
// process may have fetched meanwhile), and only then calls fetch and stores
// the result. Among concurrent processes missing on one key, only one calls
// fetch.
//
// If host is not empty, a cached entry for another host is a miss; with an
// empty host (a token shared by several hosts) fetch must set Entry.Host.
// The returned entry has Host set to host (if fetch left it empty) and
// FetchedAt set to now (if zero). If fetch fails, or ctx ends while waiting
// for the lock, and the old entry is still Valid, GetOrFetch returns the old
// entry, SourceStale and the error (a warning). An expired token is never
// returned. Failing to write the cache is not an error (see OnError).
//
// On a nil Store, GetOrFetch just calls fetch.
func (s *Store) GetOrFetch(ctx context.Context, key, host string, threshold time.Duration,
	fetch func(ctx context.Context) (Entry, error)) (Entry, Source, error) {
	if s == nil {
		e, err := fetchChecked(ctx, host, time.Now, fetch)
		if err != nil {
			return Entry{}, SourceNone, err
		}
		return e, SourceFetched, nil
	}
	if err := checkKey(key); err != nil {
		return Entry{}, SourceNone, err
	}

	// Hot path: open, read, close.
	old, haveOld := s.readToken(key, host)
	if haveOld && old.Fresh(s.now(), threshold) {
		return old, SourceCache, nil
	}

	lk, err := openLock(s.path(key + lockSuffix))
	if err != nil {
		s.report(fmt.Errorf("cache: %w; fetching without lock", err))
	} else {
		defer lk.close()
		delay := time.Millisecond
		for {
			got, err := lk.tryLock()
			if err != nil {
				s.report(fmt.Errorf("cache: lock %s: %w; fetching without lock", lk.name, err))
				break
			}
			if got {
				break
			}
			// Another process is fetching; it may already be done.
			if e, ok := s.readToken(key, host); ok && e.Fresh(s.now(), threshold) {
				return e, SourceCache, nil
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return s.stale(old, haveOld, fmt.Errorf("cache: waiting for another process to fetch the token: %w", ctx.Err()))
			case <-t.C:
			}
			if delay < 16*time.Millisecond {
				delay *= 2
			}
		}
	}

	// Read again under the lock: another process may have fetched.
	old, haveOld = s.readToken(key, host)
	if haveOld && old.Fresh(s.now(), threshold) {
		return old, SourceCache, nil
	}
	e, err := fetchChecked(ctx, host, s.now, fetch)
	if err != nil {
		return s.stale(old, haveOld, err)
	}
	if err := s.Put(key, e); err != nil {
		s.report(err)
	}
	s.Prune()
	return e, SourceFetched, nil
}

// fetchChecked calls fetch, fills in Host and FetchedAt and rejects a token
// that is already expired.
func fetchChecked(ctx context.Context, host string, clock func() time.Time,
	fetch func(ctx context.Context) (Entry, error)) (Entry, error) {
	e, err := fetch(ctx)
	if err != nil {
		return Entry{}, err
	}
	now := clock()
	if e.Host == "" {
		e.Host = host
	}
	if e.FetchedAt.IsZero() {
		e.FetchedAt = now
	}
	if !e.Valid(now) {
		return Entry{}, fmt.Errorf("cache: fetched token for %s is not valid (expires at %s)",
			e.Host, e.ExpiresAt.Format(time.RFC3339))
	}
	return e, nil
}

func (s *Store) stale(old Entry, haveOld bool, err error) (Entry, Source, error) {
	if haveOld && old.Valid(s.now()) {
		return old, SourceStale, err
	}
	return Entry{}, SourceNone, err
}

// GetLookup decodes the unexpired lookup value of key into v (as with
// json.Unmarshal) and reports whether it did. v may be partially modified
// when false is returned for a value that does not fit v.
func (s *Store) GetLookup(key string, v any) bool {
	if s == nil || !isKey(key) {
		return false
	}
	data, release, ok := readEntryFile(s.path(key + lookupSuffix))
	if !ok {
		return false
	}
	defer release()
	raw, expiresAt, ok := decodeLookup(data)
	if !ok || !s.now().Before(expiresAt) {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// PutLookup stores v (encoded with json.Marshal) as the lookup value of key
// for ttl. Lookups are for non-secret data (instance ids, regions,
// challenge results) and never mix with token entries.
func (s *Store) PutLookup(key string, v any, ttl time.Duration) error {
	if s == nil {
		return nil
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if ttl <= 0 {
		return fmt.Errorf("cache: lookup ttl %v is not positive", ttl)
	}
	now := s.now()
	data, err := encodeLookup(v, now, now.Add(ttl))
	if err != nil {
		return err
	}
	return s.writeAtomic(s.path(key+lookupSuffix), data)
}

// List returns the valid token entries, sorted by host and user name, with
// Secret cleared. Unreadable or corrupt files are skipped.
func (s *Store) List() ([]Entry, error) {
	if s == nil {
		return nil, nil
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	now := s.now()
	var out []Entry
	for _, de := range des {
		if !isKey(de.Name()) {
			continue
		}
		e, ok := s.readToken(de.Name(), "")
		if !ok || !e.Valid(now) {
			continue
		}
		e.Secret = ""
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].Username < out[j].Username
	})
	return out, nil
}

// RemoveHost removes every token entry (valid or expired) whose host equals
// host (case-insensitively) and returns how many it removed. Corrupt files,
// lookups and lock files are left alone.
func (s *Store) RemoveHost(host string) (int, error) {
	if s == nil || host == "" {
		return 0, nil
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return 0, fmt.Errorf("cache: %w", err)
	}
	n := 0
	var errs []error
	for _, de := range des {
		if !isKey(de.Name()) {
			continue
		}
		if _, ok := s.readToken(de.Name(), host); !ok {
			continue
		}
		if err := os.Remove(s.path(de.Name())); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("cache: %w", err))
			}
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// pruneAfter is how long an expired token entry stays before Prune removes it.
const pruneAfter = 24 * time.Hour

// Prune removes token entries that expired more than a day ago, and their lock files, so that
// a node whose workloads come and go (one entry per service-account token) does not gather files
// for ever. It runs after a fetch, never on the cached path; errors are ignored.
func (s *Store) Prune() int {
	if s == nil {
		return 0
	}
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return 0
	}
	cutoff := s.now().Add(-pruneAfter)
	n := 0
	for _, de := range des {
		if !isKey(de.Name()) {
			continue
		}
		e, ok := s.readToken(de.Name(), "")
		if !ok || e.ExpiresAt.After(cutoff) {
			continue
		}
		if os.Remove(s.path(de.Name())) == nil {
			os.Remove(s.path(de.Name() + lockSuffix))
			n++
		}
	}
	return n
}

// Remove removes the token entry of key, whatever host fetched it, and reports whether there
// was one. (Tokens are shared by the hosts of one region or instance, so `docker logout` of one
// of them removes the shared entry by its key.)
func (s *Store) Remove(key string) (bool, error) {
	if s == nil || !isKey(key) {
		return false, nil
	}
	err := os.Remove(s.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cache: %w", err)
	}
	return true, nil
}

// shellQuote quotes p for a POSIX shell if it contains unusual characters,
// so that the suggested fix can be pasted.
func shellQuote(p string) string {
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-+:@%,", c)) {
			return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
		}
	}
	return p
}
