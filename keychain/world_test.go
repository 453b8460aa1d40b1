package keychain

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/secrets/kms"
)

// The test world is the shared one (testdata/world.json, via internal/testkit): two accounts, a
// Personal user, Enterprise instances and the cross-account roles of the ECI documents
// (ArnService in account main, ArnUser in account partner). These names pick its parts.
var (
	theWorld  = testkit.Load()
	acctA     = theWorld.Account("main")
	acctB     = theWorld.Account("partner")
	devAK     = theWorld.User("dev").AccessKeyID
	devSK     = theWorld.User("dev").AccessKeySecret
	noPwAK    = theWorld.User("nopw").AccessKeyID
	noPwSK    = theWorld.User("nopw").AccessKeySecret
	deniedAK  = theWorld.User("denied").AccessKeyID
	deniedSK  = theWorld.User("denied").AccessKeySecret
	teamID    = theWorld.Instance("team").ID // cn-beijing, custom domain customDom
	crossID   = theWorld.Instance("cross").ID
	roleSvc   = theWorld.Role("role-assume").ARN()
	roleUser  = theWorld.Role("role-acr").ARN()
	customDom = theWorld.Instance("team").CustomDomains[0]
)

type world struct {
	fc   *fakecloud.Server
	dir  string // cache dir
	chal *httptest.Server
	// env is the whole environment the Keychain sees (Config.Getenv): the process environment is
	// neither read nor changed, so world tests may run in parallel.
	env map[string]string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	fc, _ := testkit.StartFake(t)
	w := &world{fc: fc, dir: t.TempDir(), env: map[string]string{
		"HOME":                                t.TempDir(),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
	}}
	// By default the registry challenge is not ACR's (like a registry behind a proxy that hides it).
	w.setChallenge(http.NotFoundHandler())
	return w
}

func (w *world) setChallenge(h http.Handler) {
	if w.chal != nil {
		w.chal.Close()
	}
	w.chal = httptest.NewServer(h)
}

// useAK sets the environment AccessKey of the Keychains built from now on.
func (w *world) useAK(t testing.TB, id, secret string) {
	w.env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = id
	w.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = secret
}

// keychain builds a Keychain over the fake with the given config entries.
func (w *world) keychain(t testing.TB, regs ...config.Registry) *Keychain {
	t.Helper()
	for i := range regs {
		if regs[i].ExpireDuration == 0 {
			regs[i].ExpireDuration = 3600
		}
		if regs[i].RoleSessionName == "" {
			regs[i].RoleSessionName = config.DefaultRoleSessionName
		}
	}
	cfg := &config.Config{
		Path:              "/test/config.yaml",
		ExpiringThreshold: 15 * time.Minute,
		Timeout:           20 * time.Second,
		Endpoints:         config.Endpoints{CR: "http://" + w.fc.Endpoint(), STS: "http://" + w.fc.Endpoint()},
		Registries:        regs,
		Getenv:            w.getenv(),
	}
	c, err := cache.Open(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Keychain{
		Config:       cfg,
		Cache:        c,
		DMIDir:       t.TempDir(),
		ChallengeURL: func(string) string { return w.chal.URL + "/v2/" },
		Retry:        fastRetry,
		KMS:          kms.New,
	}
}

// fastRetry keeps the production retry count with millisecond pauses.
var fastRetry = cloudapi.Retry{Backoff: func(int) time.Duration { return time.Millisecond }}

// getenv is a lookup of a snapshot of the world's environment.
func (w *world) getenv() func(string) string {
	env := maps.Clone(w.env)
	return func(k string) string { return env[k] }
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// tokenCalls counts token calls of both editions.
func (w *world) tokenCalls() int {
	return w.fc.Count("GetAuthorizationToken")
}

func (w *world) lastToken(t *testing.T) fakecloud.IssuedToken {
	t.Helper()
	toks := w.fc.IssuedTokens()
	if len(toks) == 0 {
		t.Fatal("the fake issued no token")
	}
	return toks[len(toks)-1]
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// rawChallenge answers /v2/ with 401 and exactly this WWW-Authenticate header.
func rawChallenge(header string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Www-Authenticate", header)
		w.WriteHeader(http.StatusUnauthorized)
	})
}
