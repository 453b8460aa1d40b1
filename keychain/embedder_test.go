package keychain

// What an embedder can rely on (README "Embedding"): each property of the promise has its test.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
)

// noIO is a Keychain whose every way to the outside fails the test: the environment lookup
// (every plan reads it first), the stored logins, and the API and registry endpoints. Its cache
// directory is watched by the caller.
type noIO struct {
	k        *Keychain
	env      atomic.Int32
	logins   atomic.Int32
	requests atomic.Int32
	cacheDir string
}

type countingLogins struct{ n *atomic.Int32 }

func (c countingLogins) Get(string) (string, string, bool) { c.n.Add(1); return "", "", false }
func (c countingLogins) Put(string, string, string) error  { c.n.Add(1); return nil }
func (c countingLogins) Delete(string) (bool, error)       { c.n.Add(1); return false, nil }
func (c countingLogins) List() (map[string]string, error)  { c.n.Add(1); return nil, nil }

func newNoIO(t testing.TB) *noIO {
	t.Helper()
	n := &noIO{cacheDir: t.TempDir()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.requests.Add(1)
		http.Error(w, "no request expected", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	ref, err := secrets.ParseRef("hub", "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Endpoints: config.Endpoints{CR: srv.URL, STS: srv.URL, KMS: srv.URL},
		Registries: []config.Registry{
			{Domains: []string{"registry.example.com"}, InstanceID: teamID, RegionID: "cn-beijing"},
			{Domains: []string{"docker.io", "ghcr.io"}, RegionID: "cn-hangzhou", Secret: &config.Secret{Ref: ref, Stage: secrets.DefaultStage, TTL: secrets.DefaultTTL}},
		},
		Getenv: func(string) string { n.env.Add(1); return "" },
	}
	k, err := New(Options{Config: cfg, CacheDir: n.cacheDir, Logins: countingLogins{&n.logins}})
	if err != nil {
		t.Fatal(err)
	}
	k.ChallengeURL = func(string) string { return srv.URL + "/v2/" }
	k.DMIDir = t.TempDir()
	n.k = k
	return n
}

// check fails t if anything was touched since the Keychain was made.
func (n *noIO) check(t testing.TB, what string) {
	t.Helper()
	if e, l, r := n.env.Load(), n.logins.Load(), n.requests.Load(); e+l+r != 0 {
		t.Errorf("%s: %d environment lookups, %d stored-login lookups, %d HTTP requests; want none", what, e, l, r)
	}
	entries, err := os.ReadDir(n.cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s: the cache directory holds %d entries; want it untouched", what, len(entries))
	}
}

// lookAlikes are GO-2026-6225-style hosts (an unanchored pattern handed tokens to them) and their
// kin, for the ACR default domains and for the domains the config lists: suffixes, glued
// suffixes, userinfo, ports, IDNA and punycode forms.
var lookAlikes = []string{
	"x.cr.aliyuncs.com.evil",
	"cr.aliyuncs.com-evil.example",
	"team-registry.cn-beijing.cr.aliyuncs.com.evil",
	"team-registry.cn-beijing.cr.aliyuncs.com-evil.example",
	"registry.cn-hangzhou.aliyuncs.com.evil",
	"registry.cn-hangzhou.aliyuncs.com-evil.example",
	"registry-cn-hangzhou.aliyuncs.com.evil.example",
	"evil.example/registry.cn-hangzhou.aliyuncs.com",
	"evil.example?registry.cn-hangzhou.aliyuncs.com",
	"evil.example#registry.cn-hangzhou.aliyuncs.com",
	"evilaliyuncs.com",
	"aliyuncs.com",
	"cr.aliyuncs.com",
	"user@registry.cn-hangzhou.aliyuncs.com",
	"registry.cn-hangzhou.aliyuncs.com@evil.example",
	"registry.cn-hangzhou.aliyuncs.com:x@evil.example",
	"https://registry.cn-hangzhou.aliyuncs.com@evil.example/v2/",
	"registry.cn-hangzhou.aliyuncs.com:5000",
	"registry.cn-hangzhou.aliyuncs.com:0443",
	"registry.cn-hangzhou.aliyuncs.com:443:443",
	"registry.cn-hangzhou.aliyuncs.com.:443",
	"registry\uff0ecn-hangzhou\uff0ealiyuncs\uff0ecom", // fullwidth full stops (IDNA maps them to '.')
	"\uff52egistry.cn-hangzhou.aliyuncs.com",           // fullwidth r (IDNA maps it to 'r')
	"registry.cn-hangzhou.aliyuncs.co\u0271",           // ɱ
	"xn--registry-7c6a.cn-hangzhou.aliyuncs.com",       // punycode look-alike of a label
	"registry.cn-hangzhou.xn--aliyuncs-5p8b.com",       // punycode look-alike of the domain
	"registry.cn-hangzhou.aliyuncs.com\u200b",          // zero-width space
	"registry.example.com.evil",                        // a listed domain's look-alikes
	"registry.example.com-evil.example",
	"x.registry.example.com",
	"user@registry.example.com",
	"registry.example.com:5000",
	"\uff52egistry.example.com",
	"docker.io.evil",
	"index.docker.io.evil.example",
	"evil.example/docker.io",
	"ghcr.io@evil.example",
	"xn--ghcr-4n7a.io",
}

// A host the keychain does not serve costs nothing outside the process: no environment lookup
// (every plan starts there), no stored-login lookup, no HTTP request, no cache file; the answer
// is ErrNotFound. The shared hostile corpus (testdata/hostile/hosts.json) and the look-alikes.
func TestHostNotServedNoIO(t *testing.T) {
	t.Parallel()
	n := newNoIO(t)
	hosts := slices.Clone(lookAlikes)
	for _, h := range testkit.HostileHosts() {
		hosts = append(hosts, h.Input)
	}
	hosts = append(hosts, "", "example.com", "gcr.io", "quay.io", "localhost:5000", "127.0.0.1", "[::1]:443")
	for _, h := range hosts {
		u, s, err := n.k.Get(context.Background(), h)
		if !errors.Is(err, ErrNotFound) || u != "" || s != "" {
			t.Errorf("Get(%q) = %q, %q, %v; want ErrNotFound", h, u, s, err)
		}
		if _, err := n.k.Login(context.Background(), h); !errors.Is(err, ErrNotFound) {
			t.Errorf("Login(%q): %v; want ErrNotFound", h, err)
		}
	}
	n.check(t, "hosts not served")
	// The harness sees I/O when there is some: a host the keychain serves asks the environment.
	n.k.Get(context.Background(), "registry.cn-hangzhou.aliyuncs.com")
	if n.env.Load() == 0 {
		t.Error("the harness saw no environment lookup for a host the keychain serves")
	}
}

// BenchmarkHostNotServed is the cost a Keychain adds to an embedder's pull of an image from
// another registry (ggcr's multi-keychain asks every keychain): well under a microsecond.
func BenchmarkHostNotServed(b *testing.B) {
	n := newNoIO(b)
	ctx := context.Background()
	for _, h := range []string{"gcr.io", "x.cr.aliyuncs.com.evil", "registry.example.com.evil"} {
		b.Run(h, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := n.k.Get(ctx, h); err == nil {
					b.Fatal("served")
				}
			}
		})
	}
	n.check(b, "benchmark")
}

// hangingAPI is an API endpoint that never answers: each request is announced on arrived and held
// until the test ends.
func hangingAPI(t *testing.T) (url string, arrived <-chan struct{}) {
	ch := make(chan struct{}, 64)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch <- struct{}{}
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv.URL, ch
}

// A cancelled context ends Get within 100 ms wherever it is waiting: the API call, the role hop,
// the registry challenge, another caller's fetch of the same token (the cache lock). The bound
// asserted is a generous ceiling, a hang detector; the times are logged.
func TestCancelledContextReturns(t *testing.T) {
	t.Parallel()
	const ceiling = 2 * time.Second
	for _, tc := range []struct {
		name  string
		host  string
		entry *config.Registry
		// second: the Get cancelled waits behind a first one that holds the cache lock.
		second bool
	}{
		{name: "token call", host: "registry.cn-hangzhou.aliyuncs.com"},
		{name: "role hop", host: "registry.cn-hangzhou.aliyuncs.com", entry: &config.Registry{ArnService: roleSvc, ExpireDuration: 3600, RoleSessionName: "s"}},
		{name: "registry challenge", host: "custom.example.com", entry: &config.Registry{Domains: []string{"custom.example.com"}}},
		{name: "cache lock", host: "registry.cn-beijing.aliyuncs.com", second: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, arrived := hangingAPI(t)
			cfg := &config.Config{
				Endpoints: config.Endpoints{CR: url, STS: url},
				Getenv: func(k string) string {
					return map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": devAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": devSK, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}[k]
				},
			}
			if tc.entry != nil {
				cfg.Registries = []config.Registry{*tc.entry}
			}
			k, err := New(Options{Config: cfg, CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			k.ChallengeURL = func(string) string { return url + "/v2/" }
			k.DMIDir = t.TempDir()
			if tc.second {
				// The first caller holds the lock of the token's cache key while its call hangs.
				first, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				go k.Get(first, tc.host)
				<-arrived
			}
			c, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { _, _, err := k.Get(c, tc.host); done <- err }()
			if !tc.second {
				<-arrived // the call is under way, and hangs
			} else {
				time.Sleep(50 * time.Millisecond) // let it reach the lock (if it does not, it returns sooner)
			}
			t0 := time.Now()
			cancel()
			select {
			case err := <-done:
				took := time.Since(t0)
				t.Logf("returned %v after the cancel: %v", took, err)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("a cancelled Get answered %v; want an error that is context.Canceled", err)
				}
			case <-time.After(ceiling):
				t.Fatalf("Get still running %v after its context was cancelled", ceiling)
			}
		})
	}
	// A context cancelled before the call: no request at all.
	n := newNoIO(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := n.k.Get(c, "registry.cn-hangzhou.aliyuncs.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v", err)
	}
	if n.requests.Load() != 0 {
		t.Errorf("%d requests with a cancelled context", n.requests.Load())
	}
}

// One Keychain, many goroutines, several hosts (run under -race in CI): each caller gets its
// host's login, and each token is fetched once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	k := w.keychain(t, config.Registry{Domains: []string{customDom}, InstanceID: teamID, RegionID: "cn-beijing"})
	hosts := []string{"registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com", customDom, "team-registry.cn-beijing.cr.aliyuncs.com", "gcr.io"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[string]map[string]bool{}
	for i := 0; i < 16; i++ {
		for _, h := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, s, err := k.Get(ctx(t), h)
				if h == "gcr.io" {
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("gcr.io: %v", err)
					}
					return
				}
				if err != nil || u == "" || s == "" {
					t.Errorf("%s: %q, %v", h, u, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if got[h] == nil {
					got[h] = map[string]bool{}
				}
				got[h][s] = true
			}()
		}
	}
	wg.Wait()
	for h, secrets := range got {
		if len(secrets) != 1 {
			t.Errorf("%s: %d different tokens handed out; want one", h, len(secrets))
		}
	}
	// One token per cache key, however many callers at once: the Personal token of the region
	// (both Personal hosts) and the instance's (the custom domain, whose entry names it, and the
	// default domain, whose id is found at run time: one instance, one key).
	if n := w.tokenCalls(); n != 2 {
		t.Errorf("%d token calls; want 2", n)
	}
}

// The Keychain never writes to the process's stdout or stderr (file descriptors 1 and 2, so that
// nothing escapes through another route either): its logs go to the given Logger only, and
// nowhere without one. Driven through every outcome that logs: no credentials, a token failure
// (strict and not), a stored login, a host not served, the Helper's commands, FromEnvironment.
func TestNeverWritesStdoutOrStderr(t *testing.T) {
	testkit.ScrubEnv(t) // not parallel: FromEnvironment reads the process environment
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	refused := "http://127.0.0.1:1"
	env := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": devAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": devSK, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logins, err := cache.OpenLoginsDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	build := func(env map[string]string, strict bool, l *slog.Logger) *Keychain {
		k, err := New(Options{Config: &config.Config{Strict: strict, Endpoints: config.Endpoints{CR: refused, STS: refused}, Getenv: func(n string) string { return env[n] }},
			CacheDir: t.TempDir(), Logins: logins, Logger: l})
		if err != nil {
			t.Fatal(err)
		}
		k.Retry.Backoff = func(int) time.Duration { return time.Millisecond }
		k.DMIDir = t.TempDir()
		return k
	}
	out := captureStdio(t, func() {
		for _, l := range []*slog.Logger{nil, logger} {
			for _, strict := range []bool{false, true} {
				for _, e := range []map[string]string{nil, env} {
					k := build(e, strict, l)
					for _, h := range []string{"registry.cn-hangzhou.aliyuncs.com", "gcr.io", "crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com", "user@evil"} {
						k.Get(context.Background(), h)
						k.Helper().Get(h)
					}
					hp := k.Helper()
					hp.Add(&credentials.Credentials{ServerURL: "ghcr.io", Username: "u", Secret: "s"})
					hp.Get("ghcr.io")
					hp.List()
					hp.Delete("ghcr.io")
					hp.Add(&credentials.Credentials{ServerURL: "bad host", Secret: ""})
				}
			}
		}
		useConfigFile(t, refused)
		if k, err := FromEnvironment(); err == nil {
			k.Get(context.Background(), "registry.cn-hangzhou.aliyuncs.com")
			k.Helper().Get("registry.cn-hangzhou.aliyuncs.com")
		} else {
			t.Errorf("FromEnvironment: %v", err)
		}
	})
	if out != "" {
		t.Errorf("written to stdout/stderr:\n%s", out)
	}
	// The lines went to the logger instead: the failure, and the hint for no credentials.
	for _, want := range []string{"level=ERROR", "127.0.0.1:1", "no Alibaba Cloud credentials"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the logger did not get %q:\n%s", want, logged.String())
		}
	}
}

// Building and using a Keychain leaves the process's environment and working directory as they
// were.
func TestLeavesEnvironmentAndWorkingDirectory(t *testing.T) {
	testkit.ScrubEnv(t) // not parallel: it compares the process environment
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", devAK)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", devSK)
	w := newWorld(t)
	w.useAK(t, devAK, devSK)
	useConfigFile(t, "http://"+w.fc.Endpoint())
	before, wd := snapshotProcess(t)
	k, err := FromEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.Get(ctx(t), "registry.cn-hangzhou.aliyuncs.com"); err != nil {
		t.Errorf("FromEnvironment, the fake's endpoints in the config file: %v", err)
	}
	kw := w.keychain(t, config.Registry{Domains: []string{customDom}, InstanceID: teamID, RegionID: "cn-beijing", ArnService: roleSvc, ArnUser: roleUser})
	for _, h := range []string{"registry.cn-hangzhou.aliyuncs.com", customDom, "gcr.io"} {
		kw.Get(ctx(t), h)
		kw.Helper().Get(h)
	}
	kw.Helper().List()
	kw.Helper().Delete(customDom)
	after, wd2 := snapshotProcess(t)
	if !slices.Equal(before, after) {
		t.Errorf("the environment changed:\nbefore %q\nafter  %q", before, after)
	}
	if wd != wd2 {
		t.Errorf("the working directory changed: %s → %s", wd, wd2)
	}
}

func snapshotProcess(t *testing.T) ([]string, string) {
	env := os.Environ()
	slices.Sort(env)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return env, wd
}

// useConfigFile points the process's config file (FromEnvironment) at one whose API endpoints are
// endpoint, so that no real Alibaba Cloud endpoint can be reached.
func useConfigFile(t *testing.T, endpoint string) {
	t.Helper()
	p := t.TempDir() + "/config.yaml"
	if err := os.WriteFile(p, []byte("endpoints:\n  cr: "+endpoint+"\n  sts: "+endpoint+"\n  kms: "+endpoint+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvConfig, p)
}

// The index of listed domains follows the config: entries given after New are served, and a
// host whose entry is gone is not.
func TestDomainIndexFollowsTheConfig(t *testing.T) {
	t.Parallel()
	k, err := New(Options{Config: &config.Config{Registries: []config.Registry{{Domains: []string{"old.example.com"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	serves := func(h string) bool {
		reg, err := ParseServer(h)
		return err == nil && k.Serves(reg)
	}
	if !serves("old.example.com") || !serves("OLD.example.com:443") || serves("new.example.com") {
		t.Fatal("the first config is not what Serves answers")
	}
	k.Config.Registries = []config.Registry{{Domains: []string{"new.example.com:5443"}}}
	if serves("old.example.com") || !serves("new.example.com:5443") || serves("new.example.com") {
		t.Error("Serves answers for the replaced entries")
	}
}
