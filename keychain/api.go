package keychain

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// ErrNotFound is the error of Get and Login (errors.Is) for a host with no credentials: a host
// the keychain does not serve (not an ACR host, and no config entry lists it), or one it serves
// when the machine has no Alibaba Cloud credentials at all. It is exactly where the binary
// answers "credentials not found"; a caller goes on anonymously, or asks the next keychain.
// Every other error is a failure that says what to do next.
var ErrNotFound = errors.New("credentials not found")

// Is makes errors.Is(err, ErrNotFound) true for a NotFoundError.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Options build a Keychain without the process environment (New).
type Options struct {
	// Config is the helper's settings: registries entries, endpoints, VPC, timeouts. nil is the
	// defaults with no entries (the ACR default domains only). Its Getenv is the environment the
	// credential chain reads (ALIBABA_CLOUD_*, HOME for the CLI profiles); nil is an empty
	// environment: New never reads the process environment.
	Config *config.Config
	// CacheDir is the on-disk token cache, shared with other processes using it (0700, files
	// 0600); "" keeps no cache, and every Get asks ACR.
	CacheDir string
	// Logins are the logins given with `docker login`, used before any token for the hosts the
	// keychain serves; nil is none.
	Logins LoginStore
	// Logger receives every log line; nil discards them. The keychain never writes to stdout or
	// stderr.
	Logger *slog.Logger
	// KMS reads the registry logins of entries with a `secret` from KMS Secrets Manager: kms.New
	// of package secrets/kms. nil: such entries' hosts get ErrNoKMS, and the program links no KMS
	// SDK.
	KMS KMSReader
}

// Default settings of a Config that leaves them zero.
const (
	defaultExpiringThreshold = 15 * time.Minute
	defaultTimeout           = 20 * time.Second
)

// New builds a Keychain from o alone: no variable, file or directory other than those o names is
// read.
func New(o Options) (*Keychain, error) {
	var cfg config.Config
	if o.Config != nil {
		cfg = *o.Config
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	if cfg.ExpiringThreshold == 0 {
		cfg.ExpiringThreshold = defaultExpiringThreshold
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	k := &Keychain{Config: &cfg, Logins: o.Logins, Log: o.Logger, KMS: o.KMS, index: new(atomic.Pointer[domainIndex])}
	if o.CacheDir != "" {
		c, err := cache.Open(o.CacheDir)
		if err != nil {
			return nil, err
		}
		k.Cache = c
	}
	return k, nil
}

// FromEnvironment builds the Keychain the binary uses: the same config file, environment
// variables, token cache and stored logins. A cache or login store that cannot be opened is left
// out, as the binary does (with a warning there; here, silently: nothing is written to stderr).
// A config file that cannot be read is an error. Entries whose login is a KMS secret need
// k.KMS = kms.New (package secrets/kms, left out of programs that do not ask for it);
// ggcr.FromEnvironment sets it.
func FromEnvironment() (*Keychain, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	o := Options{Config: cfg}
	if cfg.DataDir != "" {
		if s, err := cache.OpenLoginsDir(cfg.DataDir); err == nil {
			o.Logins = s
		}
	}
	if !cfg.NoCache && cfg.CacheDir != "" {
		o.CacheDir = cfg.CacheDir
		if k, err := New(o); err == nil {
			return k, nil
		}
		o.CacheDir = ""
	}
	return New(o)
}

// Get returns the user name and secret for serverURL (a host, host:port, or a URL as docker
// sends it). errors.Is(err, ErrNotFound) when there are none.
func (k *Keychain) Get(ctx context.Context, serverURL string) (username, secret string, err error) {
	l, err := k.Login(ctx, serverURL)
	if err != nil {
		return "", "", err
	}
	return l.Username, l.Secret, nil
}
