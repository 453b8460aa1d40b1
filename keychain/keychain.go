// Package keychain turns a registry host into a registry login: the plan (plan.go: entry,
// region, instance, cache key, "is this host mine"), instance discovery (discover.go), the token
// call, logins from KMS secrets (secret.go), and errors that say what to do (explain.go). It
// composes the host parser and ACR API (acr), the credential chain and role hops (sts), the
// configuration (config) and the on-disk cache (cache). It is what every caller links: the
// command line (credhelper), the controller, and other tools.
package keychain

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr/crapi"
	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// Login is what a registry needs to let a client in.
type Login struct {
	Username  string
	Secret    string
	ExpiresAt time.Time // zero for stored logins
	Source    string    // "stored", "cache", "fetched", "stale"
	// FromSecret names the KMS secret (and who read it) of a login read from one; "" otherwise.
	FromSecret string
}

// LoginStore keeps the logins users give with `docker login`.
type LoginStore interface {
	Get(host string) (username, secret string, ok bool)
	Put(host, username, secret string) error
	Delete(host string) (bool, error)
	List() (map[string]string, error)
}

// Keychain resolves registry hosts to logins. Make one with New or FromEnvironment; it is safe
// for concurrent use. Its fields are what New sets (and what the helper's own commands and tests
// adjust); set them, and its Config, before the first call, never during calls.
type Keychain struct {
	Config *config.Config
	Cache  *cache.Store // nil: no cache
	Logins LoginStore   // nil: no stored logins
	Log    *slog.Logger
	// clock, if set, replaces time.Now (tests set it from their own files).
	clock func() time.Time
	// ChallengeURL is where the anonymous registry challenge of a host is read; tests point it
	// at a loopback server. Default: https://<host>/v2/.
	ChallengeURL func(host string) string
	// DMIDir is where DMI identifies the machine (tests).
	DMIDir string
	// Credentials, when set, replaces the base chain (kubelet per-workload identity).
	Credentials *sts.OIDC
	// CacheScope is mixed into cache keys (kubelet: the service account).
	CacheScope string
	// Retry is the retry policy of the API calls; the zero value is the production one (tests
	// shorten the backoff). It reaches the STS calls; the CR calls get it once crapi.Client has a
	// Retry field to pass to cloudapi.Request.
	Retry cloudapi.Retry
	// KMS reads the logins of the entries with a `secret` (Options.KMS); nil: their hosts get
	// ErrNoKMS.
	KMS KMSReader

	// index is New's index of the domains the config lists (Serves); shared by copies.
	index *atomic.Pointer[domainIndex]
}

func (k *Keychain) Now() time.Time {
	if k.clock != nil {
		return k.clock()
	}
	return time.Now()
}

func (k *Keychain) Logger() *slog.Logger {
	if k.Log != nil {
		return k.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Login is the login for serverURL, with its expiry and where it came from.
func (k *Keychain) Login(ctx context.Context, serverURL string) (Login, error) {
	reg, err := ParseServer(serverURL)
	if err != nil {
		k.Logger().Debug("not a registry host", "error", err)
		return Login{}, &NotFoundError{Host: serverURL}
	}
	// A host it does not serve costs no file, cache or network access: the answer is known from
	// the host name and the config in memory (embedders ask every keychain about every host).
	if !k.Serves(reg) {
		return Login{}, &NotFoundError{Host: reg.Host}
	}
	if err := ctx.Err(); err != nil {
		return Login{}, err
	}
	if k.Logins != nil {
		if u, s, ok := k.Logins.Get(reg.Host); ok {
			return Login{Username: u, Secret: s, Source: "stored"}, nil
		}
	}
	plan, err := k.Plan(ctx, reg)
	if err != nil {
		return Login{}, err
	}
	return k.login(ctx, plan)
}

func (k *Keychain) login(ctx context.Context, p *Plan) (Login, error) {
	if p.Chain.Empty() {
		hint := "no Alibaba Cloud credentials found for " + p.Registry.Host + ": set ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure the aliyun CLI, or use RRSA"
		if p.Chain.ECSSkipped != "" && k.Config.Env("ALIBABA_CLOUD_ECS_METADATA_DISABLED") == "" {
			hint += "; the ECS RAM role was not tried: " + p.Chain.ECSSkipped
		}
		return Login{}, &NotFoundError{Host: p.Registry.Host, Hint: hint, NoCredentials: true}
	}
	if p.Secret != nil {
		return k.secretLogin(ctx, p)
	}
	threshold := k.Config.ExpiringThreshold
	byInstance := false
	e, src, err := k.Cache.GetOrFetch(ctx, p.Key, "", threshold, func(ctx context.Context) (cache.Entry, error) {
		if p.Kind == TargetEnterprise && p.InstanceID == "" {
			e, err := k.fetchByInstance(ctx, p, threshold)
			byInstance = err == nil
			return e, err
		}
		return k.fetchEntry(ctx, p)
	})
	if byInstance && src == cache.SourceFetched {
		// The token lives under the instance's key; the copy under this plan's key is no longer
		// read (the next plan of this host knows the id), so it goes.
		k.Cache.Drop(p.Key)
	}
	switch {
	case err != nil && src == cache.SourceStale:
		k.Logger().Warn("refreshing the ACR token failed; using the cached one until it expires",
			"host", p.Registry.Host, "expires", e.ExpiresAt.Format(time.RFC3339), "error", k.Explain(p, err).Error())
	case err != nil:
		return Login{}, k.Explain(p, err)
	}
	if !e.Valid(k.Now()) {
		return Login{}, &TokenError{Host: p.Registry.Host, Err: errors.New("ACR returned a token that has already expired"), Fix: "check this machine's clock"}
	}
	return Login{Username: e.Username, Secret: e.Secret, ExpiresAt: e.ExpiresAt, Source: src.String()}, nil
}

// fetchEntry asks ACR for the plan's token, as a cache entry.
func (k *Keychain) fetchEntry(ctx context.Context, p *Plan) (cache.Entry, error) {
	t, err := k.Fetch(ctx, p)
	if err != nil {
		return cache.Entry{}, err
	}
	now := k.Now()
	return cache.Entry{Host: p.Registry.Host, Username: t.Username, Secret: t.Password, ExpiresAt: k.localExpiry(t, now), FetchedAt: now}, nil
}

// fetchByInstance serves an Enterprise plan whose instance the config does not name (a default
// domain, a custom domain found at run time): it finds the instance (under the plan's own key's
// lock, so concurrent processes look it up once), then takes the token from the instance's key,
// fetching it there if need be. One instance reached by several domains is then one token call
// and one entry, whichever domain comes first; later plans of this host know the id from the
// lookup cache (rememberedInstance) and read the instance's key directly.
func (k *Keychain) fetchByInstance(ctx context.Context, p *Plan, threshold time.Duration) (cache.Entry, error) {
	creds, err := p.Provider.Credentials(ctx)
	if err != nil {
		return cache.Entry{}, err
	}
	api := func(region string) (*crapi.Client, error) { return k.crAPI(p.Kind, region, creds, p.VPC) }
	id, region, err := k.resolveInstance(ctx, p, api)
	if err != nil {
		return cache.Entry{}, err
	}
	q := *p
	q.InstanceID, q.Region, q.How = id, region, nil
	q.Provider = sts.Static(creds) // the credentials just fetched: no second STS call
	if region != p.Region {
		return k.fetchEntry(ctx, &q) // not the key rememberedInstance would give: keep the plan's
	}
	e, _, err := k.Cache.GetOrFetch(ctx, k.key(&q), "", threshold, func(ctx context.Context) (cache.Entry, error) {
		return k.fetchEntry(ctx, &q)
	})
	if err != nil {
		return cache.Entry{}, err
	}
	return e, nil
}

// maxTokenLife caps the life of a token the helper keeps (and so what the kubelet is told): ACR's
// temporary logins live one hour, or as long as the STS credentials that asked for them (at most
// 12 hours). An answer that says more is not believed past this.
const maxTokenLife = 12 * time.Hour

// localExpiry is when a token fetched at local time now expires on the local clock. Its life is
// measured on the service's clock, the stated expiry minus the answer's Date, so that a local
// clock hours ahead or behind neither serves an expired token nor refuses a good one; without a
// Date the local clock is all there is. The life is capped at maxTokenLife.
func (k *Keychain) localExpiry(t crapi.Token, now time.Time) time.Time {
	life := t.ExpiresAt.Sub(now)
	if !t.ServerDate.IsZero() {
		// The Date header has whole seconds, up to 1s behind the service's clock: count it as
		// late as it can be, so that the life is never read longer than it is.
		life = t.ExpiresAt.Sub(t.ServerDate.Add(time.Second))
		if skew := t.ServerDate.Sub(now); skew > time.Minute || skew < -time.Minute {
			k.Logger().Debug("the service's clock differs from this machine's; token life measured on the service's clock",
				"skew", skew.Round(time.Second).String())
		}
	}
	if life > maxTokenLife {
		k.Logger().Warn("ACR stated a token life beyond any it issues; keeping the token for at most "+maxTokenLife.String(),
			"stated", t.ExpiresAt.UTC().Format(time.RFC3339))
		life = maxTokenLife
	}
	return now.Add(life)
}

// fetch resolves what the plan could not know locally and asks ACR for a token.
func (k *Keychain) Fetch(ctx context.Context, p *Plan) (crapi.Token, error) {
	creds, err := p.Provider.Credentials(ctx)
	if err != nil {
		return crapi.Token{}, err
	}
	// The identity the cache key names: the chain's one source in use, then the hops.
	k.Logger().Debug("fetching a token", "host", p.Registry.Host, "credentials", p.Chain.Describe(), "roleChain", sts.ARNs(p.Hops))
	api := func(region string) (*crapi.Client, error) { return k.crAPI(p.Kind, region, creds, p.VPC) }
	if p.Kind == TargetPersonal {
		a, err := api(p.Region)
		if err != nil {
			return crapi.Token{}, err
		}
		return a.PersonalToken(ctx)
	}
	id, region, err := k.resolveInstance(ctx, p, api)
	if err != nil {
		return crapi.Token{}, err
	}
	a, err := api(region)
	if err != nil {
		return crapi.Token{}, err
	}
	return a.EnterpriseToken(ctx, id)
}
