package keychain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// Plan is what the Keychain knows about a host before any network call: the parsed registry, the
// config entry that applies, the base credentials and the role hops. Doctor shows it.
type Plan struct {
	Registry acr.Registry
	Entry    *config.Registry // nil if none applies
	Kind     TargetKind
	Region   string
	// InstanceID is known from the config (or from the host for crpi- instances).
	InstanceID string
	// Chain is the base credentials; Hops the role chain run on them (sts.RoleChain), each hop
	// asking STS at STSEndpoint; Provider is Chain wrapped in the Hops, built once.
	Chain       *sts.Chain
	Hops        []sts.Hop
	STSEndpoint cloudapi.Endpoint
	Provider    sts.Provider
	// VPC: the cr (Enterprise) or KMS calls go to the VPC endpoint of their region (see apiVPC).
	VPC bool
	// Secret is set for an entry whose login is a KMS secret (Kind TargetSecret; secret.go).
	Secret *secretPlan
	Key    string   // the cache key of the token
	How    []string // how each fact was found, for doctor
}

// TargetKind is the kind of token a host needs.
type TargetKind int

const (
	TargetPersonal   TargetKind = iota + 1 // GET /tokens in the region
	TargetEnterprise                       // GetAuthorizationToken of an instance
	TargetSecret                           // GetSecretValue of a KMS secret (secret.go)
)

// serves reports whether the Keychain could serve reg at all: an ACR default domain, or a host
// that a config entry lists in its domains. It is the one answer to "is this host mine".
func (k *Keychain) Serves(reg acr.Registry) bool {
	return (reg.IsACR() && acrPort(reg)) || (k.mayList(reg.Host) && k.listingEntry(reg) != nil)
}

// domainIndex is the set of hosts the config's entries list in domains (as acr.Parse keys them),
// for the config it was made of: a host outside it is no entry's, known with one map lookup
// instead of parsing every listed domain again (a keychain is asked about every host an embedder
// pulls from).
type domainIndex struct {
	cfg   *config.Config
	first *config.Registry // &cfg.Registries[0] when made: a new slice makes a new index
	n     int
	hosts map[string]bool
}

// mayList reports whether a config entry may list host: false only when no entry does.
func (k *Keychain) mayList(host string) bool {
	if k.index == nil { // a Keychain not made by New: no index, the entries decide
		return true
	}
	regs := k.Config.Registries
	var first *config.Registry
	if len(regs) > 0 {
		first = &regs[0]
	}
	ix := k.index.Load()
	if ix == nil || ix.cfg != k.Config || ix.first != first || ix.n != len(regs) {
		ix = &domainIndex{cfg: k.Config, first: first, n: len(regs), hosts: map[string]bool{}}
		for i := range regs {
			for _, d := range regs[i].Domains {
				if r, err := acr.Parse(secrets.CanonicalDomain(d)); err == nil {
					ix.hosts[r.Host] = true
				}
			}
		}
		k.index.Store(ix)
	}
	return ix.hosts[host]
}

// acrPort reports whether reg's port is one ACR serves its default domains on: 443 (Port ""),
// or 65001 for the P2P acceleration domains (ACR-FACTS §1). A default domain with another port
// is no ACR registry, and gets no token unless a config entry lists that host:port.
func acrPort(reg acr.Registry) bool {
	return reg.Port == "" || (reg.P2P && reg.Port == "65001")
}

// listingEntry is the first config entry that lists reg's host in its domains (not one that
// applies to every host by default); nil if none does.
func (k *Keychain) listingEntry(reg acr.Registry) *config.Registry {
	e := k.Config.Match(reg.MatchesDomain, "")
	if e == nil {
		return nil
	}
	for _, d := range e.Domains {
		if reg.MatchesDomain(d) {
			return e
		}
	}
	return nil
}

// plan works out how to get a token for reg, from local facts only, with one exception: an
// Enterprise default domain whose instance id is needed to pick its config entry (entries that
// name only an instanceId). There the registry's anonymous challenge says it, else each such
// entry's instance is asked (ListInstanceEndpoint, with that entry's credentials) whether it
// serves the host; the answer is remembered on disk (instanceOf).
func (k *Keychain) Plan(ctx context.Context, reg acr.Registry) (*Plan, error) {
	cfg := k.Config
	if e := k.secretEntry(reg); e != nil {
		return k.secretPlan(reg, e)
	}
	p := &Plan{Registry: reg}
	switch reg.Edition {
	case acr.EditionUnknown:
		if p.Entry = k.listingEntry(reg); p.Entry == nil {
			return nil, &NotFoundError{Host: reg.Host}
		}
		p.Kind = TargetEnterprise
		p.InstanceID, p.Region = p.Entry.InstanceID, p.Entry.RegionID
		p.How = append(p.How, "custom domain listed in "+p.Entry.Describe()+" of "+cfg.Path)
	case acr.EditionPersonal:
		p.Kind, p.Region = TargetPersonal, reg.Region
		p.Entry = cfg.MatchPersonal(reg.MatchesDomain, reg.Region)
		p.How = append(p.How, "Personal Edition (classic) host; region "+reg.Region+" from the host name")
	case acr.EditionPersonalInstance:
		p.Kind, p.Region, p.InstanceID = TargetEnterprise, reg.Region, reg.InstanceID
		p.Entry = cfg.Match(reg.MatchesDomain, reg.InstanceID)
		if !cfg.PersonalInstanceTokens {
			return nil, &NotFoundError{Host: reg.Host, Hint: fmt.Sprintf(
				"%s is a Personal Edition instance (crpi-), which has no temporary tokens: run `docker login %s` once with the instance's fixed password; the helper keeps it (personalInstanceTokens: true in the config tries GetAuthorizationToken instead; experimental, nothing shows it working)",
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
		} else if cands := instanceEntries(cfg, reg); p.Entry == nil && len(cands) > 0 {
			// Which entry applies depends on the instance: establish it, or fail; never go on
			// silently with a chain that lacks the hops of the entry that names it.
			hi, err := k.instanceOf(ctx, reg, cands)
			if err != nil {
				return nil, err
			}
			if hi.ID != "" {
				p.InstanceID = hi.ID
				if hi.Region != "" {
					p.Region = hi.Region
				}
			}
			p.How = append(p.How, hi.How)
		}
		if p.InstanceID == "" {
			p.How = append(p.How, fmt.Sprintf("Enterprise Edition default domain of instance %q in %s", reg.InstanceName, reg.Region))
		}
	}
	// For the Enterprise default domain the entry by instance id can only be chosen once the id
	// is known; a catch-all entry applies meanwhile.
	if p.Entry == nil {
		p.Entry = cfg.Match(func(string) bool { return false }, p.InstanceID)
	}
	if err := k.planRegion(p); err != nil {
		return nil, err
	}
	if err := k.credentials(p); err != nil {
		return nil, err
	}
	k.rememberedInstance(p)
	var why string
	if p.VPC, why = k.vpcReason(p); p.VPC && p.Kind == TargetEnterprise && cfg.Endpoints.CR == "" {
		p.How = append(p.How, "ACR API calls on cr-vpc."+p.Region+".aliyuncs.com: "+why)
	}
	p.Key = k.key(p)
	return p, nil
}

// rememberedInstance gives an Enterprise plan whose instance was not known from the config the
// id an earlier fetch found for this host and identity (the lookup cache, no network), so that
// one instance reached by its default domain and by a custom domain is one cache key, and one
// token call. The entry and the credentials stay as planned: only the key and the id change.
func (k *Keychain) rememberedInstance(p *Plan) {
	if p.Kind != TargetEnterprise || p.InstanceID != "" || p.Region == "" {
		return
	}
	var l instanceLookup
	if k.Cache.GetLookup(instanceLookupKey(k, p), &l) && l.ID != "" && l.Region == p.Region {
		p.InstanceID = l.ID
		p.How = append(p.How, "instance "+l.ID+", as an earlier lookup found")
	}
}

// planRegion applies the region rule (see config's regions.go): a host that names its region
// keeps it, and an entry's regionId is the region of the hosts that do not name one (the custom
// domains it lists). An entry that names the host (in domains) or its instance (instanceId) with
// another region contradicts the host and is an error naming the entry; a catch-all entry's
// regionId does not apply to hosts that name their region (config.Load refuses one).
func (k *Keychain) planRegion(p *Plan) error {
	e := p.Entry
	switch {
	case e == nil || e.RegionID == "":
		return nil
	case p.Registry.Region == "":
		p.Region = e.RegionID
		p.How = append(p.How, "region "+p.Region+" from regionId of "+e.Describe())
		return nil
	case e.RegionID == p.Registry.Region:
		return nil
	case len(e.Domains) == 0 && e.InstanceID == "":
		p.How = append(p.How, "regionId "+e.RegionID+" of "+e.Describe()+" not used: the host names its region")
		return nil
	}
	where := e.Describe()
	if w := e.Where(); w != "" {
		where += " at " + w
	}
	return &TokenError{Host: p.Registry.Host,
		Err: fmt.Errorf("%s names region %s, but %s says regionId %s", p.Registry.Host, p.Registry.Region, where, e.RegionID),
		Fix: "a host that names its region keeps it: correct or remove regionId in that entry"}
}

// instanceEntries are the entries that name only an instanceId (they apply to that instance's
// default domains) and so could be the instance behind reg. One whose regionId differs from the
// host's is a candidate too: if it is the instance, the config contradicts the host, and
// planRegion says so instead of serving the host without that entry's hops.
func instanceEntries(cfg *config.Config, reg acr.Registry) []*config.Registry {
	var out []*config.Registry
	for i := range cfg.Registries {
		r := &cfg.Registries[i]
		if r.InstanceID != "" && len(r.Domains) == 0 {
			out = append(out, r)
		}
	}
	return out
}

// credentials fills in the plan's base chain, the STS endpoint and the entry's role hops.
func (k *Keychain) credentials(p *Plan) error {
	e := p.Entry
	stsRegion := k.Config.Env(config.EnvSTSRegion)
	if stsRegion != "" && !acr.ValidRegion(stsRegion) {
		// Never another endpoint instead: the variable is wrong, and the user must hear it.
		return &TokenError{Host: p.Registry.Host, Err: fmt.Errorf("%s=%q is not a region id", config.EnvSTSRegion, stsRegion),
			Fix: "set " + config.EnvSTSRegion + " to a region id such as cn-hangzhou, or unset it"}
	}
	if stsRegion == "" {
		stsRegion = p.Region
	}
	// As the sts-20150401 SDK resolves it (its endpoint map, then sts[-vpc].<region>), the
	// global endpoint when no region is known, an override always first.
	stsEndpoint, err := sts.ResolveEndpoint(k.Config.Endpoints.STS, stsRegion, k.Config.STSVPC(p.Entry))
	if err != nil {
		// The override was checked when the config was read; what is left is a {region} with no
		// region known, or a region that is not one. Never fall back silently to another endpoint.
		return &TokenError{Host: p.Registry.Host, Err: err, Fix: "add regionId to " + entryName(p) + ", or set ALIBABA_CLOUD_STS_REGION to a region id"}
	}
	opts := sts.ChainOptions{
		ECSMetadata: k.Config.ECSMetadata,
		DMIDir:      k.DMIDir,
		Getenv:      k.Config.Env,
		STSEndpoint: stsEndpoint,
		Retry:       k.Retry,
		// The audience asked of a CI's token service (GitHub Actions).
		OIDCAudience: k.Config.Env(config.EnvOIDCAudience),
	}
	if e != nil && e.CustomAccessKey != "" {
		opts.Getenv = accessKeyEnv(e, k.Config.Env) // the ACK add-on's customAccessKey (accesskey.go)
	}
	switch {
	case k.Credentials != nil:
		o := *k.Credentials
		if o.Endpoint.Host == "" {
			o.Endpoint = stsEndpoint
		}
		o.Retry = k.Retry
		opts.OIDC = &o
	case e != nil && e.RRSARoleARN != "":
		tf := e.OIDCTokenFile
		if tf == "" {
			tf = k.Config.Env("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
		}
		opts.OIDC = &sts.OIDC{RoleARN: e.RRSARoleARN, ProviderARN: e.RRSAOIDCProviderARN, TokenFile: tf, SessionName: e.RoleSessionName, Endpoint: stsEndpoint, Retry: k.Retry}
	}
	if e != nil && e.Profile != "" && opts.OIDC == nil {
		// The entry's own base credentials: a named profile, read now (the files are sts's).
		ch, err := sts.NewProfileChain(opts, e.Profile)
		if err != nil {
			fix := "fix the profile's file"
			var nf *sts.ProfileNotFoundError
			if errors.As(err, &nf) {
				fix = "name one of the profiles that exist, or create it (aliyun configure --profile " + e.Profile + ")"
			}
			return &TokenError{Host: p.Registry.Host, Err: fmt.Errorf("config file %s: %s.profile: %w", k.Config.Path, e.Describe(), err), Fix: fix}
		}
		p.Chain = ch
	} else {
		p.Chain = sts.NewChain(opts)
	}
	p.STSEndpoint = stsEndpoint
	if e != nil {
		p.Hops = sts.RoleChain(e.ArnService, e.ArnUser, e.ExternalID, e.RoleSessionName, time.Duration(e.ExpireDuration)*time.Second)
	}
	p.Provider = sts.Through(p.Chain, p.Hops, stsEndpoint, k.Retry)
	return nil
}

// key is the cache key of the plan's token: everything that decides the answer and is known
// without the network. Personal tokens serve every Personal host of a region, and an Enterprise
// token every domain of its instance, so the key names the region and instance, not the host
// (except for a custom domain whose instance is found at run time). Whether the call went to the
// public or the VPC endpoint of the same region does not change the token: the public and the VPC
// domain of one instance share it.
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
	parts := []string{"token/v1", target, k.Config.Endpoints.CR, k.CacheScope}
	// The entry's hops, as empty when there is no entry as when it has none (the hops' session
	// length then decides nothing): a custom domain's entry without hops and the default domain
	// without an entry are one identity.
	var e config.Registry
	if p.Entry != nil && (p.Entry.ArnService != "" || p.Entry.ArnUser != "") {
		e = *p.Entry
	}
	parts = append(parts, e.ArnService, e.ArnUser, e.ExternalID, strconv.Itoa(e.ExpireDuration))
	parts = append(parts, p.Chain.Identity())
	return cache.Key(parts...)
}
