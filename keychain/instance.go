package keychain

import (
	"context"
	"fmt"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/config"
)

// InstanceLogin is the login of a config entry that names an Enterprise instance without listing
// its domains (the ACK add-on's form: "by default, all domain names of the instance"), with those
// domains: one ListInstanceEndpoint and one GetAuthorizationToken, asked with the same credentials
// (the entry's chain and role hops). region is the instance's region (the entry's regionId, or the
// cluster's when the entry has none). No cache: the caller (the cluster-wide controller) keeps the
// login and asks again when it is due.
func (k *Keychain) InstanceLogin(ctx context.Context, e *config.Registry, region string) (Login, []string, error) {
	if e == nil || e.InstanceID == "" || !acr.ValidRegion(region) {
		return Login{}, nil, fmt.Errorf("InstanceLogin needs an entry with instanceId and a region (got region %q)", region)
	}
	p := &Plan{Registry: acr.Registry{Host: e.InstanceID, Region: region}, Entry: e, Kind: TargetEnterprise,
		Region: region, InstanceID: e.InstanceID}
	if err := k.credentials(p); err != nil {
		return Login{}, nil, err
	}
	if p.Chain.Empty() {
		return Login{}, nil, &NotFoundError{Host: e.InstanceID, NoCredentials: true,
			Hint: "no Alibaba Cloud credentials found for instance " + e.InstanceID + ": set ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, or use RRSA"}
	}
	creds, err := p.Provider.Credentials(ctx)
	if err != nil {
		return Login{}, nil, k.Explain(p, err)
	}
	a, err := k.crAPI(TargetEnterprise, region, creds, k.apiVPC(p))
	if err != nil {
		return Login{}, nil, err
	}
	domains, err := a.InstanceDomains(ctx, e.InstanceID)
	if err != nil {
		return Login{}, nil, k.Explain(p, err)
	}
	t, err := a.EnterpriseToken(ctx, e.InstanceID)
	if err != nil {
		return Login{}, nil, k.Explain(p, err)
	}
	now := k.Now()
	return Login{Username: t.Username, Secret: t.Password, ExpiresAt: k.localExpiry(t, now), Source: "fetched"}, domains, nil
}
