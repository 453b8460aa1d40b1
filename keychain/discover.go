package keychain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/acr/crapi"
	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// Instance discovery: which Enterprise instance, in which region, serves a host the plan could not
// place from local facts alone.

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
	lookupKey := instanceLookupKey(k, p)
	var l instanceLookup
	if k.Cache.GetLookup(lookupKey, &l) && l.ID != "" && l.Region != "" {
		return l.ID, l.Region, nil
	}
	if p.InstanceID != "" { // custom domain with instanceId but no regionId
		ch, err := k.challenge(ctx, reg.Host)
		if ctx.Err() != nil {
			return "", "", ctx.Err() // the caller gave up: not a fact about the registry
		}
		if err != nil || ch.InstanceID != p.InstanceID {
			return "", "", fmt.Errorf("the config names instance %s for %s but no regionId, and the registry did not say its region: add regionId to %s", p.InstanceID, reg.Host, p.Entry.Describe())
		}
		l = instanceLookup{ID: p.InstanceID, Region: ch.Region}
	} else if reg.Edition == acr.EditionEnterprise {
		// The service of the challenge names the instance and its region (realm regions vary).
		if ch, err := k.cachedChallenge(ctx, reg.Host); err == nil && ch.InstanceID != "" {
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
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
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
		k.Logger().Debug("could not remember the instance lookup", "error", err)
	}
	return l.ID, l.Region, nil
}

// instanceLookupKey is where the instance found behind the plan's host is remembered.
func instanceLookupKey(k *Keychain, p *Plan) string {
	return cache.Key("lookup/v1", p.Registry.Host, p.Region, k.Config.Endpoints.CR, p.Chain.Identity())
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
		k.Logger().Debug("could not remember the registry challenge", "error", err)
	}
	return ch, nil
}

// challenge reads the anonymous /v2/ challenge of host.
func (k *Keychain) challenge(ctx context.Context, host string) (acr.Challenge, error) {
	ch, _, _, err := k.ReadChallenge(ctx, host)
	return ch, err
}

// readChallenge reads host's anonymous /v2/ challenge, with at most 5 s of the command's
// deadline: the parsed challenge, the raw WWW-Authenticate header and the URL read.
func (k *Keychain) ReadChallenge(ctx context.Context, host string) (acr.Challenge, string, string, error) {
	url := "https://" + host + "/v2/"
	if k.ChallengeURL != nil {
		url = k.ChallengeURL(host)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ch, header, err := acr.ReadChallenge(ctx, cloudapi.HTTPClient(), url)
	return ch, header, url, err
}

// hostInstance is what instanceOf established about a default domain: the instance behind it
// ("" when none of the candidate entries' instances serves it) and how that was found.
type hostInstance struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	How    string `json:"how"`
}

type noAPIKey struct{}

// WithoutAPICalls marks ctx so that Plan uses only what it can learn without credentials (the
// registry's public challenge, the disk): offline doctor.
func WithoutAPICalls(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAPIKey{}, true)
}

func apiCallsAllowed(ctx context.Context) bool {
	off, _ := ctx.Value(noAPIKey{}).(bool)
	return !off
}

// instanceOf establishes which instance serves the Enterprise default domain reg, to choose among
// the entries that name only an instanceId (cands). In order: the answer remembered on disk; the
// registry's anonymous challenge; the endpoint list (ListInstanceEndpoint) of each candidate's
// instance, asked with that entry's own credentials and hops, since the instance may live in the
// account the hops lead to. The answer "none of them" is an answer too (another entry, or none,
// then applies); when it cannot be established the error names the entries and the fix.
func (k *Keychain) instanceOf(ctx context.Context, reg acr.Registry, cands []*config.Registry) (hostInstance, error) {
	ids := make([]string, 0, len(cands)+2)
	ids = append(ids, "instance-of/v1", reg.Host)
	for _, e := range cands {
		ids = append(ids, e.InstanceID)
	}
	key := cache.Key(ids...)
	var hi hostInstance
	if k.Cache.GetLookup(key, &hi) && hi.How != "" {
		return hi, nil
	}
	ch, chErr := k.cachedChallenge(ctx, reg.Host)
	if chErr == nil && ch.InstanceID != "" {
		hi = hostInstance{ID: ch.InstanceID, Region: ch.Region, How: "instance " + ch.InstanceID + " from the registry's anonymous challenge"}
		k.remember(key, hi)
		return hi, nil
	}
	reason := "it named no Enterprise instance"
	if chErr != nil {
		reason = chErr.Error()
	}
	names := make([]string, len(cands))
	for i, e := range cands {
		names[i] = e.Describe()
	}
	fix := fmt.Sprintf("if %s belongs to the instance of one of %s, add `domains: [%s]` to that entry; otherwise add the instance's regionId to the entry, or grant cr:ListInstanceEndpoint on the instance to the entry's credentials, so the helper can tell",
		reg.Host, strings.Join(names, ", "), reg.Host)
	// Only an entry without regionId, or with the host's, can be asked: an instance's default
	// domains name its own region. (One the challenge names is handled above, and planRegion
	// reports its contradicting regionId.)
	var askable []*config.Registry
	for _, e := range cands {
		if e.RegionID == "" || e.RegionID == reg.Region {
			askable = append(askable, e)
		}
	}
	if len(askable) == 0 {
		hi = hostInstance{How: fmt.Sprintf("not the instance of %s: their regionId is not %s (the registry's anonymous challenge did not say: %s)", strings.Join(names, ", "), reg.Region, reason)}
		k.remember(key, hi)
		return hi, nil
	}
	cands = askable
	if !apiCallsAllowed(ctx) {
		return hostInstance{}, &TokenError{Host: reg.Host, Fix: fix + " (or run doctor --online, which asks ListInstanceEndpoint)",
			Err: fmt.Errorf("cannot tell offline whether %s is the instance of %s: the registry's anonymous challenge did not say (%s)", reg.Host, strings.Join(names, ", "), reason)}
	}
	var failures []string
	for _, e := range cands {
		serves, region, err := k.instanceServes(ctx, reg, e)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %s", e.Describe(), cloudapi.Scrub(err.Error())))
			continue
		}
		if serves {
			hi = hostInstance{ID: e.InstanceID, Region: region, How: fmt.Sprintf("instance %s of %s: its ListInstanceEndpoint lists %s (the registry's anonymous challenge did not say: %s)", e.InstanceID, e.Describe(), reg.Host, reason)}
			k.remember(key, hi)
			return hi, nil
		}
	}
	if len(failures) > 0 {
		return hostInstance{}, &TokenError{Host: reg.Host, Fix: fix,
			Err: fmt.Errorf("cannot tell whether %s is the instance of %s: the registry's anonymous challenge did not say (%s), and ListInstanceEndpoint failed (%s)", reg.Host, strings.Join(names, ", "), reason, strings.Join(failures, "; "))}
	}
	hi = hostInstance{How: fmt.Sprintf("not the instance of %s: their ListInstanceEndpoint does not list %s", strings.Join(names, ", "), reg.Host)}
	k.remember(key, hi)
	return hi, nil
}

// instanceServes asks, with entry e's credentials and hops, whether e's instance lists the default
// domain reg (any of its forms: the instance name and region of a listed SYSTEM domain match).
func (k *Keychain) instanceServes(ctx context.Context, reg acr.Registry, e *config.Registry) (bool, string, error) {
	q := &Plan{Registry: reg, Entry: e, Kind: TargetEnterprise, Region: reg.Region, InstanceID: e.InstanceID}
	if e.RegionID != "" {
		q.Region = e.RegionID
	}
	if err := k.credentials(q); err != nil {
		return false, "", err
	}
	if q.Chain.Empty() {
		return false, "", errors.New("no Alibaba Cloud credentials found")
	}
	creds, err := q.Provider.Credentials(ctx)
	if err != nil {
		return false, "", err
	}
	a, err := k.crAPI(TargetEnterprise, q.Region, creds, k.apiVPC(q))
	if err != nil {
		return false, "", err
	}
	// INSTANCE_NOT_EXIST is no answer: the instance may live in another region, or these
	// credentials may not see it, and only the second would make it the host's.
	domains, err := a.InstanceDomains(ctx, e.InstanceID)
	if err != nil {
		return false, "", err
	}
	for _, d := range domains {
		if reg.MatchesDomain(d) {
			return true, q.Region, nil
		}
		if l, err := acr.Parse(d); err == nil && l.Edition == acr.EditionEnterprise && l.InstanceName == reg.InstanceName && l.Region == reg.Region {
			return true, q.Region, nil
		}
	}
	return false, q.Region, nil
}

func (k *Keychain) remember(key string, v any) {
	if err := k.Cache.PutLookup(key, v, lookupTTL); err != nil {
		k.Logger().Debug("could not remember an instance lookup", "error", err)
	}
}

// crAPI is the ACR API client of region with creds, on cr-vpc.<region> when vpc (the plan's).
// Personal Edition token calls (GET /tokens) stay on the public cr.<region> endpoint even then:
// cr-vpc.<region> is seen serving Enterprise calls only, and nothing shows GET /tokens there
// (ACR-FACTS §2). An endpoints.cr override applies to both.
func (k *Keychain) crAPI(kind TargetKind, region string, creds sts.Credentials, vpc bool) (*crapi.Client, error) {
	vpc = vpc && kind == TargetEnterprise
	ep, err := cloudapi.ResolveEndpoint(k.Config.Endpoints.CR, "cr", region, vpc)
	if err != nil {
		return nil, err
	}
	return &crapi.Client{Endpoint: ep, Region: region, Creds: creds, Retry: k.Retry}, nil
}
