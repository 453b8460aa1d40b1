package keychain

// Registry logins from KMS Secrets Manager: a config entry with `secret` serves the registries
// it lists (Docker Hub, GHCR, Quay, a company registry) with the login stored in that secret,
// read by the entry's own identity (the credential chain and role hops of plan.go) and cached
// like a token for secretTTL. Package secrets knows the secret; this file plans, caches and
// explains.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// secretPlan is the KMS part of a plan whose login is a secret.
type secretPlan struct {
	Ref      secrets.Ref
	Stage    string
	TTL      time.Duration
	Endpoint cloudapi.Endpoint
	// Account is the signing identity's account when its ARN says it (the last role hop, or the
	// OIDC role): it completes the ARN of a secret named without one. "" when unknown.
	Account string
}

// ARN is the secret's ARN, with the account completed where the plan knows it ("*" if not).
func (s *secretPlan) ARN() string { return s.Ref.WithAccount(s.Account).ARN() }

// ParseServer reads a server URL as the Keychain keys it: Docker Hub under one name, docker.io,
// whichever of its names the client sent (secrets.CanonicalDomain).
func ParseServer(serverURL string) (acr.Registry, error) {
	return acr.Parse(secrets.CanonicalDomain(serverURL))
}

// secretEntry is the entry with a secret that lists reg's host, nil if none does.
func (k *Keychain) secretEntry(reg acr.Registry) *config.Registry {
	if e := k.listingEntry(reg); e != nil && e.Secret != nil {
		return e
	}
	return nil
}

// secretPlan plans a login from the secret of entry e, with e's credential chain and hops.
func (k *Keychain) secretPlan(reg acr.Registry, e *config.Registry) (*Plan, error) {
	s := e.Secret
	p := &Plan{Registry: reg, Entry: e, Kind: TargetSecret, Region: s.Ref.Region}
	p.How = append(p.How, "listed in "+e.Describe()+" of "+k.Config.Path+", whose login is the KMS secret "+s.Ref.String())
	override, ca := k.Config.KMSEndpoint(s)
	vpc, _ := k.Config.APIVPC(e)
	ep, err := cloudapi.ResolveEndpoint(override, "kms", s.Ref.Region, vpc)
	if err != nil {
		// The override was checked when the config was read and the region is always known:
		// only a broken invariant gets here. Never another endpoint.
		return nil, &secretError{Host: reg.Host, Err: err, Fix: "check endpoints.kms (or the entry's kmsEndpoint) in the config file"}
	}
	if ca != nil {
		// A KMS instance gateway: its private CA, and only it, is trusted there.
		ep.RootCAs = ca.Pool
		p.How = append(p.How, "KMS endpoint "+ep.String()+", trusting only the CA in "+ca.Path)
	}
	if err := k.credentials(p); err != nil {
		return nil, err
	}
	p.Secret = &secretPlan{Ref: s.Ref, Stage: s.Stage, TTL: s.TTL, Endpoint: ep, Account: k.SignerAccount(p)}
	p.Key = k.secretKey(p)
	return p, nil
}

// signerAccount is the account of the identity that signs the plan's calls, when an ARN says it:
// the last role hop, else the OIDC role of the base credentials. "" when unknown (an AccessKey).
func (k *Keychain) SignerAccount(p *Plan) string {
	role := ""
	switch {
	case len(p.Hops) > 0:
		role = p.Hops[len(p.Hops)-1].RoleARN
	case k.Credentials != nil:
		role = k.Credentials.RoleARN
	case p.Entry != nil && p.Entry.RRSARoleARN != "":
		role = p.Entry.RRSARoleARN
	}
	return roleAccount(role)
}

// roleAccount is the account of a role ARN acs:ram::<account>:role/<name>, "" for anything else.
func roleAccount(arn string) string {
	if r, ok := acr.ParseRoleARN(arn); ok {
		return r.Account
	}
	return ""
}

// secretKey is the cache key of a secret plan's login: the secret (ARN, stage, endpoint), the
// identity that reads it (chain and hops, the kubelet's service account) and the TTL.
func (k *Keychain) secretKey(p *Plan) string {
	s := p.Secret
	parts := []string{"secret/v1", s.Ref.SecretName(), s.Ref.Region, s.ARN(), s.Stage, s.Endpoint.String(), s.TTL.String(), k.CacheScope}
	if e := p.Entry; e != nil {
		parts = append(parts, e.ArnService, e.ArnUser, e.ExternalID, strconv.Itoa(e.ExpireDuration))
	}
	parts = append(parts, p.Chain.Identity())
	return cache.Key(parts...)
}

// SecretIdentity names what a secret plan's login is: the secret, its stage, and who reads it.
// The log lines and doctor name it so; the cache key is made of the same parts.
func SecretIdentity(p *Plan) string {
	who := p.Chain.Describe()
	for _, arn := range sts.ARNs(p.Hops) {
		who += " → " + arn
	}
	return p.Secret.ARN() + " (versionStage " + p.Secret.Stage + ") read by " + who
}

// secretClient is the KMS client of a plan, signing with creds (the plan's provider: chain and hops).
func (k *Keychain) SecretClient(p *Plan, creds sts.Provider) secrets.Reader {
	if k.KMS == nil {
		return noKMS{}
	}
	return k.KMS(p.Secret.Endpoint, creds, p.Secret.Account, k.Retry)
}

// KMSReader makes the reader of a KMS secret: its endpoint, the credentials that sign, the
// signer's account when known (it completes a bare secret name's ARN in messages), the retry
// policy. kms.New of package secrets/kms is the one the binary links.
type KMSReader func(endpoint cloudapi.Endpoint, creds sts.Provider, account string, retry cloudapi.Retry) secrets.Reader

// ErrNoKMS is the error for a host whose login is a KMS secret, in a program built without KMS
// support.
var ErrNoKMS = errors.New("this program reads no KMS secrets: it was built without package secrets/kms (set keychain.Options.KMS to kms.New; the docker-credential-acr binary and keychain/ggcr have it)")

type noKMS struct{}

func (noKMS) Login(context.Context, secrets.Ref, string) (secrets.Login, error) {
	return secrets.Login{}, ErrNoKMS
}

// secretLogin is the login of a secret plan: from the cache while it is younger than secretTTL,
// else read from KMS (one process at a time per key) and cached until now + secretTTL, so that
// a rotated secret is picked up within that time.
func (k *Keychain) secretLogin(ctx context.Context, p *Plan) (Login, error) {
	s := p.Secret
	id := SecretIdentity(p)
	// Threshold 0: the login is served until its TTL is over, and never after (no stale use:
	// a rotated-away password is what the TTL bounds).
	e, src, err := k.Cache.GetOrFetch(ctx, p.Key, "", 0, func(ctx context.Context) (cache.Entry, error) {
		l, err := k.SecretClient(p, p.Provider).Login(ctx, s.Ref, s.Stage)
		if err != nil {
			return cache.Entry{}, err
		}
		now := k.Now()
		k.Logger().Debug("read the registry login from KMS Secrets Manager", "host", p.Registry.Host, "identity", id, "user", l.Username, "version", l.VersionID)
		e := cache.Entry{Host: p.Registry.Host, Username: l.Username, Secret: l.Password, FetchedAt: now, ExpiresAt: now.Add(s.TTL), Lasting: true}
		if !cache.Fits(e) {
			k.warnUncachable(p, id)
		}
		return e, nil
	})
	if err != nil {
		return Login{}, k.Explain(p, err)
	}
	k.Logger().Debug("registry login from a KMS secret", "host", p.Registry.Host, "identity", id, "source", src.String(), "until", e.ExpiresAt.UTC().Format(time.RFC3339))
	return Login{Username: e.Username, Secret: e.Secret, ExpiresAt: e.ExpiresAt, Source: src.String(), FromSecret: id}, nil
}

// uncachableWarningEvery is how often a login too large for the cache is warned about.
const uncachableWarningEvery = 24 * time.Hour

// warnUncachable says, once a day per plan (a lookup entry remembers), that the login read from
// KMS is too large to cache, so that every get reads KMS.
func (k *Keychain) warnUncachable(p *Plan, id string) {
	if k.Cache == nil {
		return // no cache: nothing is cached anyway
	}
	marker := cache.Key("uncachable-login", p.Key)
	var warned bool
	if k.Cache.GetLookup(marker, &warned) && warned {
		return
	}
	k.Logger().Warn(fmt.Sprintf("the registry login for %s from KMS secret %s is larger than the cache's %d KiB entry limit, so it is not cached and every get reads KMS: store a shorter password (characters such as < > & take 6 bytes each in the cache); this warning is shown once a day",
		p.Registry.Host, id, cache.MaxEntrySize>>10))
	_ = k.Cache.PutLookup(marker, true, uncachableWarningEvery)
}

// secretError means a login from a KMS secret failed. Its text says for which host, why and
// what to do; it never holds the secret's value.
type secretError struct {
	Host     string
	Identity string // SecretIdentity of the plan
	Err      error
	Fix      string
}

func (e *secretError) Error() string {
	msg := "registry login for " + e.Host + " from Alibaba Cloud KMS Secrets Manager failed: "
	var se *secrets.Error
	if errors.As(e.Err, &se) {
		// Its text holds no value, and names the fix with a {"username","password"} example that
		// Scrub would blank.
		msg += e.Err.Error()
	} else {
		msg += cloudapi.Scrub(e.Err.Error())
		if e.Identity != "" {
			msg += " (secret " + e.Identity + ")"
		}
	}
	if e.Fix != "" {
		msg += " — " + e.Fix
	}
	return strings.Join(strings.Fields(msg), " ")
}

func (e *secretError) Unwrap() error { return e.Err }

// explainSecret is explain for a secret plan: a SecretError naming the fix.
func (k *Keychain) explainSecret(p *Plan, err error) error {
	var already *secretError
	if errors.As(err, &already) {
		return err
	}
	se := &secretError{Host: p.Registry.Host, Identity: SecretIdentity(p), Err: err}
	var ae *cloudapi.Error
	var ua x509.UnknownAuthorityError
	switch kind := secrets.KindOf(err); {
	case errors.As(err, &ua):
		se.Fix = "the KMS endpoint's certificate is not signed by a CA this machine trusts: a KMS instance gateway (<kms-instance-id>.cryptoservice.kms.aliyuncs.com) serves a certificate of Alibaba Cloud's private KMS CA; download the instance's CA certificate from the KMS console and name it with kmsCAFile next to kmsEndpoint in " + entryName(p) + " (or endpoints.kmsCAFile next to endpoints.kms)"
	case kind == secrets.NoPermission:
		se.Fix = "`docker-credential-acr doctor --policy " + p.Registry.Host + "` prints the policy each identity needs"
	case kind != 0:
	case errors.As(err, &ae) && ae.Service == "kms":
		switch {
		case ae.Code == "Rejected.Throttling" || strings.HasPrefix(ae.Code, "Throttling"):
			se.Fix = "KMS throttled the call: retry in a minute; the cache (secretTTL) keeps KMS calls rare"
		case ae.StatusCode == 403 || strings.HasPrefix(ae.Code, "Forbidden"):
			se.Fix = "allow kms:GetSecretValue on " + p.Secret.ARN() + " to the identity that reads it (`docker-credential-acr doctor --policy " + p.Registry.Host + "`)"
		default:
			se.Fix = fixFor(ae, p)
		}
	default:
		// The credential chain, the role hops, the network: as for ACR.
		q := *p
		q.Secret = nil
		var te *TokenError
		if errors.As(k.Explain(&q, err), &te) {
			se.Fix = te.Fix
		}
	}
	return se
}
