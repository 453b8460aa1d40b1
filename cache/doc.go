// Package cache keeps files for docker-credential-acr: the on-disk token
// cache, and (in logins.go) the store of `docker login` credentials.
//
// Docker starts a new credential-helper process for every pull, so tokens
// are cached in files shared by all helper processes of one user. The
// package deals with files and locks only; it knows nothing about Alibaba
// Cloud and reads no environment variable: the caller (config) chooses the
// directory and whether there is a cache at all, and passes the directory
// to [Open] or [OpenLoginsDir].
//
// # Layout
//
// The cache lives in one directory that must be owned by the current user
// and must not be writable by group or others; every directory on the way
// to it is checked as ssh checks the path to its files (see [Open]), and
// the Store keeps the checked directory open, so that all later file
// operations are relative to it. Inside it:
//
//	<key>               a token entry (JSON, mode 0600), key = [Key](...)
//	<key>.lookup        a non-secret lookup value with an expiry (JSON, 0600)
//	<key>.lock          the lock file serialising fetches of <key> (empty, 0600)
//	.erase-log          what logouts erased, so that a fetch in progress does
//	                    not write its token back (erase.go)
//	.last-prune         when prune last ran (prune.go)
//	.tmp-*              temporary files of writes in progress
//
// Entries are written atomically (temporary file, rename), so a reader sees
// either the complete old or the complete new entry even if a writer is
// killed at any point. Cache entries are not fsynced (a cold get would pay a
// millisecond or more for a file that can be fetched again): after a crash an
// entry may be lost, empty or cut short, which is a miss, and every entry
// names the key it was written under, so content that is not its own (blocks
// of another file, a file moved or copied there) is a miss too. The login
// store and the erase log, which are no cache, are fsynced with their
// directory. Entries are never
// opened through a symbolic link. Anything that cannot be decoded (corrupt,
// truncated, larger than 64 KiB, another format version, a symlink) is a
// cache miss and is replaced by the next write. A lock file is removed only
// by prune, only while holding its lock, and every taker of a lock checks
// that the file it locked is still linked (lock_unix.go); elsewhere lock
// files are kept.
//
// # The login store is not a cache
//
// [Logins] (logins.go) shares the directory checks and the atomic writes of
// the cache, but it is not a cache: it holds the only copy of what the user
// gave to `docker login` (Personal instances have no temporary tokens). Its
// files never expire, are never pruned, and live in a directory of their own
// (the caller passes a data directory, not the cache directory).
//
// # Platforms
//
// On Unix, fetches are serialised with flock(2); on Windows with LockFileEx.
// On other platforms (and AIX) there is no cross-process lock: concurrent
// processes may fetch the same token twice, which is harmless. Outside Unix
// the ownership and permission checks of the directory are skipped (the
// default directory lives in the user's profile), file operations go by
// path rather than relative to an open directory, and symlinks are detected
// with Lstat before opening rather than atomically with O_NOFOLLOW; a write
// can fail while another process has the entry open, which is reported
// through the store's error hook and retried on the next miss.
package cache
