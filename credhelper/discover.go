package credhelper

import (
	"context"
	"fmt"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/acr/crapi"
	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
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
	ch, _, err := acr.ReadChallenge(ctx, cloudapi.HTTPClient(), url)
	return ch, err
}
