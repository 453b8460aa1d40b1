// Package credhelper speaks the protocols: the docker credential-helper protocol and the kubelet
// image credential provider protocol. Its Keychain turns a registry host into a registry login,
// composing the host parser and ACR API (acr), the credential chain and role hops (sts), the
// configuration (config) and the on-disk cache (cache).
package credhelper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
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
}

// LoginStore keeps the logins users give with `docker login`.
type LoginStore interface {
	Get(host string) (username, secret string, ok bool)
	Put(host, username, secret string) error
	Delete(host string) (bool, error)
	List() (map[string]string, error)
}

// NotFoundError means there are no credentials for the host, which the protocols answer with
// "not found" so that clients go on anonymously. Hint, if set, tells the user how to get some.
type NotFoundError struct {
	Host string
	Hint string
}

func (e *NotFoundError) Error() string {
	if e.Hint == "" {
		return "no credentials for " + e.Host
	}
	return e.Hint
}

// TokenError means the host is an ACR registry and credentials exist, but getting a token failed.
// Its message says what failed and what to do.
type TokenError struct {
	Host string
	Err  error
	Fix  string
}

func (e *TokenError) Error() string {
	msg := fmt.Sprintf("Alibaba Cloud ACR login for %s failed: %s", e.Host, cloudapi.Scrub(e.Err.Error()))
	if e.Fix != "" {
		msg += " — " + e.Fix
	}
	return strings.Join(strings.Fields(msg), " ") // one line, whatever the SDKs put in their errors
}

func (e *TokenError) Unwrap() error { return e.Err }

// Keychain resolves registry hosts to logins.
type Keychain struct {
	Config *config.Config
	Cache  *cache.Store // nil: no cache
	Logins LoginStore   // nil: no stored logins
	Log    *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
	// ChallengeURL is where the anonymous registry challenge of a host is read; tests point it
	// at a loopback server. Default: https://<host>/v2/.
	ChallengeURL func(host string) string
	// DMIDir is where DMI identifies the machine (tests).
	DMIDir string
	// Credentials, when set, replaces the base chain (kubelet per-workload identity).
	Credentials *sts.OIDC
	// CacheScope is mixed into cache keys (kubelet: the service account).
	CacheScope string
}

func (k *Keychain) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

func (k *Keychain) log() *slog.Logger {
	if k.Log != nil {
		return k.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Plan is what the Keychain knows about a host before any network call: the parsed registry, the
// config entry that applies, the base credentials and the role hops. Doctor shows it.
type Plan struct {
	Registry acr.Registry
	Entry    *config.Registry // nil if none applies
	Kind     TargetKind
	Region   string
	// InstanceID is known from the config (or from the host for crpi- instances).
	InstanceID string
	Chain      *sts.Chain
	Provider   sts.Provider // Chain wrapped in the role hops
	Hops       []string     // role ARNs, in order
	Key        string       // the cache key of the token
	How        []string     // how each fact was found, for doctor
}

// TargetKind is the kind of token a host needs.
type TargetKind int

const (
	TargetPersonal   TargetKind = iota + 1 // GET /tokens in the region
	TargetEnterprise                       // GetAuthorizationToken of an instance
)

// Get returns the login for serverURL.
func (k *Keychain) Get(ctx context.Context, serverURL string) (Login, error) {
	reg, err := acr.Parse(serverURL)
	if err != nil {
		k.log().Debug("not a registry host", "error", err)
		return Login{}, &NotFoundError{Host: serverURL}
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

// Plan works out how to get a token for reg, from local facts only, with one exception: an
// Enterprise default domain whose instance id is needed to pick its config entry (entries that
// name only an instanceId), where the registry's anonymous challenge, remembered on disk, says it.
func (k *Keychain) Plan(ctx context.Context, reg acr.Registry) (*Plan, error) {
	cfg := k.Config
	p := &Plan{Registry: reg}
	switch reg.Edition {
	case acr.EditionUnknown:
		p.Entry = cfg.Match(reg.MatchesDomain, "")
		if p.Entry == nil || !domainListed(p.Entry, reg) {
			return nil, &NotFoundError{Host: reg.Host}
		}
		p.Kind = TargetEnterprise
		p.InstanceID, p.Region = p.Entry.InstanceID, p.Entry.RegionID
		p.How = append(p.How, "custom domain listed in "+p.Entry.Describe()+" of "+cfg.Path)
	case acr.EditionPersonal:
		p.Kind, p.Region = TargetPersonal, reg.Region
		p.Entry = cfg.Match(reg.MatchesDomain, "")
		p.How = append(p.How, "Personal Edition (classic) host; region "+reg.Region+" from the host name")
	case acr.EditionPersonalInstance:
		p.Kind, p.Region, p.InstanceID = TargetEnterprise, reg.Region, reg.InstanceID
		p.Entry = cfg.Match(reg.MatchesDomain, reg.InstanceID)
		if !cfg.PersonalInstanceTokens {
			return nil, &NotFoundError{Host: reg.Host, Hint: fmt.Sprintf(
				"%s is a Personal Edition instance (crpi-), which has no temporary tokens: run `docker login %s` once with the instance's fixed password; the helper keeps it (set personalInstanceTokens: true in the config to try GetAuthorizationToken instead)",
				reg.Host, reg.Host)}
		}
		p.How = append(p.How, "Personal Edition instance "+reg.InstanceID+" (personalInstanceTokens: true)")
	case acr.EditionEnterprise:
		p.Kind, p.Region = TargetEnterprise, reg.Region
		p.Entry = cfg.Match(reg.MatchesDomain, "")
		if p.Entry != nil && p.Entry.InstanceID == "" && len(p.Entry.Domains) == 0 {
			p.Entry = nil // a catch-all entry: look for one naming the instance once it is known
		}
		if p.Entry != nil && p.Entry.InstanceID != "" {
			p.InstanceID = p.Entry.InstanceID
			p.How = append(p.How, "instance "+p.InstanceID+" from "+p.Entry.Describe())
		} else if hasInstanceEntries(cfg) {
			if ch, err := k.cachedChallenge(ctx, reg.Host); err == nil && ch.InstanceID != "" && ch.Region == reg.Region {
				p.InstanceID = ch.InstanceID
				p.How = append(p.How, "instance "+p.InstanceID+" from the registry's anonymous challenge")
			}
		}
		if p.InstanceID == "" {
			p.How = append(p.How, fmt.Sprintf("Enterprise Edition default domain of instance %q in %s", reg.InstanceName, reg.Region))
		}
	}
	if p.Entry != nil && p.Entry.RegionID != "" {
		p.Region = p.Entry.RegionID
	}
	// For the Enterprise default domain the entry by instance id can only be chosen once the id
	// is known; a catch-all entry applies meanwhile.
	if p.Entry == nil {
		p.Entry = cfg.Match(func(string) bool { return false }, p.InstanceID)
	}
	p.Chain, p.Provider, p.Hops = k.credentials(p.Entry, p.Region)
	p.Key = k.key(p)
	return p, nil
}

// domainListed reports whether the entry names the host itself (not just matches by default).
func domainListed(e *config.Registry, reg acr.Registry) bool {
	for _, d := range e.Domains {
		if reg.MatchesDomain(d) {
			return true
		}
	}
	return false
}

// credentials builds the base chain and wraps it in the entry's role hops.
func (k *Keychain) credentials(e *config.Registry, region string) (*sts.Chain, sts.Provider, []string) {
	stsRegion := os.Getenv("ALIBABA_CLOUD_STS_REGION")
	if stsRegion == "" {
		stsRegion = region
	}
	stsEndpoint, err := cloudapi.ResolveEndpoint(k.Config.Endpoints.STS, "sts", stsRegion, k.Config.VPC)
	if err != nil {
		stsEndpoint = cloudapi.Endpoint{Host: "sts.aliyuncs.com", Scheme: "https"}
	}
	opts := sts.ChainOptions{
		ECSMetadata: k.Config.ECSMetadata,
		DMIDir:      k.DMIDir,
		OIDCFromEnv: func(role, provider, tokenFile, session string) sts.Provider {
			return &sts.OIDC{RoleARN: role, ProviderARN: provider, TokenFile: tokenFile, SessionName: session, Endpoint: stsEndpoint}
		},
	}
	switch {
	case k.Credentials != nil:
		o := *k.Credentials
		if o.Endpoint.Host == "" {
			o.Endpoint = stsEndpoint
		}
		opts.OIDC = &o
	case e != nil && e.RRSARoleARN != "":
		tf := e.OIDCTokenFile
		if tf == "" {
			tf = os.Getenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
		}
		opts.OIDC = &sts.OIDC{RoleARN: e.RRSARoleARN, ProviderARN: e.RRSAOIDCProviderARN, TokenFile: tf, SessionName: e.RoleSessionName, Endpoint: stsEndpoint}
	}
	chain := sts.NewChain(opts)
	var p sts.Provider = chain
	var hops []string
	if e != nil {
		for _, arn := range []string{e.ArnService, e.ArnUser} {
			if arn != "" {
				hops = append(hops, arn)
			}
		}
		for i, arn := range hops {
			ext := ""
			if i == len(hops)-1 {
				ext = e.ExternalID // the last role (the registry owner's) is the one that asks for it
			}
			p = &sts.AssumeRole{Base: p, RoleARN: arn, ExternalID: ext, SessionName: e.RoleSessionName,
				Duration: time.Duration(e.ExpireDuration) * time.Second, Endpoint: stsEndpoint}
		}
	}
	return chain, p, hops
}

// key is the cache key of the plan's token: everything that decides the answer and is known
// without the network. Personal tokens serve every Personal host of a region, and an Enterprise
// token every domain of its instance, so the key names the region and instance, not the host
// (except for a custom domain whose instance is found at run time).
func (k *Keychain) key(p *Plan) string {
	var target string
	switch {
	case p.Kind == TargetPersonal:
		target = "personal\x00" + p.Region
	case p.InstanceID != "":
		target = "instance\x00" + p.InstanceID + "\x00" + p.Region
	case p.Registry.Edition == acr.EditionEnterprise:
		target = "name\x00" + p.Registry.InstanceName + "\x00" + p.Region
	default:
		target = "domain\x00" + p.Registry.Host + "\x00" + p.Region
	}
	parts := []string{"token/v1", target, k.Config.Endpoints.CR, strconv.FormatBool(k.Config.VPC), k.CacheScope}
	if p.Entry != nil {
		parts = append(parts, p.Entry.ArnService, p.Entry.ArnUser, p.Entry.ExternalID, strconv.Itoa(p.Entry.ExpireDuration))
	}
	parts = append(parts, p.Chain.Identity())
	return cache.Key(parts...)
}

func (k *Keychain) login(ctx context.Context, p *Plan) (Login, error) {
	if p.Chain.Empty() {
		hint := "no Alibaba Cloud credentials found for " + p.Registry.Host + ": set ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure the aliyun CLI, or use RRSA"
		if p.Chain.ECSSkipped != "" && os.Getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED") == "" {
			hint += "; the ECS RAM role was not tried: " + p.Chain.ECSSkipped
		}
		return Login{}, &NotFoundError{Host: p.Registry.Host, Hint: hint}
	}
	threshold := k.Config.ExpiringThreshold
	e, src, err := k.Cache.GetOrFetch(ctx, p.Key, "", threshold, func(ctx context.Context) (cache.Entry, error) {
		t, err := k.fetch(ctx, p)
		if err != nil {
			return cache.Entry{}, err
		}
		return cache.Entry{Host: p.Registry.Host, Username: t.Username, Secret: t.Password, ExpiresAt: t.ExpiresAt, FetchedAt: k.now()}, nil
	})
	switch {
	case err != nil && src == cache.SourceStale:
		k.log().Warn("refreshing the ACR token failed; using the cached one until it expires",
			"host", p.Registry.Host, "expires", e.ExpiresAt.Format(time.RFC3339), "error", k.explain(p, err).Error())
	case err != nil:
		return Login{}, k.explain(p, err)
	}
	if !e.Valid(k.now()) {
		return Login{}, &TokenError{Host: p.Registry.Host, Err: errors.New("ACR returned a token that has already expired"), Fix: "check this machine's clock"}
	}
	return Login{Username: e.Username, Secret: e.Secret, ExpiresAt: e.ExpiresAt, Source: src.String()}, nil
}

// fetch resolves what the plan could not know locally and asks ACR for a token.
func (k *Keychain) fetch(ctx context.Context, p *Plan) (crapi.Token, error) {
	creds, err := p.Provider.Credentials(ctx)
	if err != nil {
		return crapi.Token{}, err
	}
	api := func(region string) (*crapi.Client, error) {
		ep, err := cloudapi.ResolveEndpoint(k.Config.Endpoints.CR, "cr", region, k.Config.VPC)
		if err != nil {
			return nil, err
		}
		return &crapi.Client{Endpoint: ep, Region: region, Creds: creds}, nil
	}
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

type instanceLookup struct {
	ID     string `json:"id"`
	Region string `json:"region"`
}

const lookupTTL = 7 * 24 * time.Hour

// resolveInstance finds the instance id and region behind an Enterprise host: from the plan
// (config), the lookup cache, the registry's anonymous challenge, or the API; a custom domain
// found at run time is confirmed with ListInstanceEndpoint before any token is asked for.
func (k *Keychain) resolveInstance(ctx context.Context, p *Plan, api func(string) (*crapi.Client, error)) (string, string, error) {
	if p.InstanceID != "" && p.Region != "" {
		return p.InstanceID, p.Region, nil
	}
	reg := p.Registry
	lookupKey := cache.Key("lookup/v1", reg.Host, p.Region, k.Config.Endpoints.CR, p.Chain.Identity())
	var l instanceLookup
	if k.Cache.GetLookup(lookupKey, &l) && l.ID != "" && l.Region != "" {
		return l.ID, l.Region, nil
	}
	if p.InstanceID != "" { // custom domain with instanceId but no regionId
		ch, err := k.challenge(ctx, reg.Host)
		if err != nil || ch.InstanceID != p.InstanceID {
			return "", "", fmt.Errorf("the config names instance %s for %s but no regionId, and the registry did not say its region: add regionId to %s", p.InstanceID, reg.Host, p.Entry.Describe())
		}
		l = instanceLookup{ID: p.InstanceID, Region: ch.Region}
	} else if reg.Edition == acr.EditionEnterprise {
		if ch, err := k.cachedChallenge(ctx, reg.Host); err == nil && ch.InstanceID != "" && ch.Region == reg.Region {
			l = instanceLookup{ID: ch.InstanceID, Region: ch.Region}
		} else {
			a, err := api(p.Region)
			if err != nil {
				return "", "", err
			}
			in, err := a.FindInstance(ctx, reg.InstanceName)
			if err != nil {
				return "", "", err
			}
			l = instanceLookup{ID: in.ID, Region: in.Region}
		}
	} else { // custom domain without instanceId: discover, then confirm
		ch, err := k.challenge(ctx, reg.Host)
		if err != nil || ch.InstanceID == "" {
			reason := "it did not answer with an ACR challenge"
			if err != nil {
				reason = err.Error()
			}
			return "", "", fmt.Errorf("cannot tell which ACR instance serves %s (%s): add instanceId and regionId to %s", reg.Host, reason, p.Entry.Describe())
		}
		if p.Region != "" && ch.Region != p.Region {
			return "", "", fmt.Errorf("%s says it is instance %s in %s, but the config says region %s", reg.Host, ch.InstanceID, ch.Region, p.Region)
		}
		a, err := api(ch.Region)
		if err != nil {
			return "", "", err
		}
		domains, err := a.InstanceDomains(ctx, ch.InstanceID)
		if err != nil {
			return "", "", err
		}
		listed := false
		for _, d := range domains {
			if reg.MatchesDomain(d) {
				listed = true
			}
		}
		if !listed {
			return "", "", &untrustedDomainError{host: reg.Host, instance: ch.InstanceID}
		}
		l = instanceLookup{ID: ch.InstanceID, Region: ch.Region}
	}
	if err := k.Cache.PutLookup(lookupKey, l, lookupTTL); err != nil {
		k.log().Debug("could not remember the instance lookup", "error", err)
	}
	return l.ID, l.Region, nil
}

type untrustedDomainError struct{ host, instance string }

func (e *untrustedDomainError) Error() string {
	return fmt.Sprintf("%s points at instance %s, but that instance does not list %s among its domains (ListInstanceEndpoint), so no token is handed to it", e.host, e.instance, e.host)
}

func hasInstanceEntries(cfg *config.Config) bool {
	for _, r := range cfg.Registries {
		if r.InstanceID != "" && len(r.Domains) == 0 {
			return true
		}
	}
	return false
}

// cachedChallenge is challenge remembered on disk: what a registry says of itself is public and
// changes only if the instance is recreated.
func (k *Keychain) cachedChallenge(ctx context.Context, host string) (acr.Challenge, error) {
	key := cache.Key("challenge/v1", host)
	var ch acr.Challenge
	if k.Cache.GetLookup(key, &ch) && ch.Region != "" {
		return ch, nil
	}
	ch, err := k.challenge(ctx, host)
	if err != nil {
		return ch, err
	}
	if err := k.Cache.PutLookup(key, ch, lookupTTL); err != nil {
		k.log().Debug("could not remember the registry challenge", "error", err)
	}
	return ch, nil
}

// challenge reads the anonymous /v2/ challenge of host.
func (k *Keychain) challenge(ctx context.Context, host string) (acr.Challenge, error) {
	url := "https://" + host + "/v2/"
	if k.ChallengeURL != nil {
		url = k.ChallengeURL(host)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return acr.Challenge{}, err
	}
	resp, err := cloudapi.HTTPClient().Do(req)
	if err != nil {
		return acr.Challenge{}, fmt.Errorf("GET %s: %v", url, errors.Unwrap(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return acr.Challenge{}, fmt.Errorf("GET %s answered %d, not 401", url, resp.StatusCode)
	}
	return acr.ParseChallenge(resp.Header.Get("Www-Authenticate"))
}
