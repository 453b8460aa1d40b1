package credhelper

// Doctor's view of a host served from a KMS secret (the keychain's secret.go plans and reads it).

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// secretStep is doctor's online step of a secret plan: GetSecretValue with creds, never showing
// the value.
func secretStep(k *keychain.Keychain, ctx context.Context, p *keychain.Plan, creds sts.Provider, r *doctorReport) (string, error) {
	l, err := k.SecretClient(p, creds).Login(ctx, p.Secret.Ref, p.Secret.Stage)
	if err != nil {
		return "", err
	}
	if r.Secret != nil {
		r.Secret.VersionID = cloudapi.Scrub(l.VersionID)
	}
	return fmt.Sprintf("user %s, version %s (stages %s); cached for %s", l.Username, l.VersionID, strings.Join(l.Stages, ", "), p.Secret.TTL), nil
}

// secretReport is doctor's view of a secret plan: which secret, where, read by whom; never its value.
type secretReport struct {
	Secret    string `json:"secret"`
	ARN       string `json:"arn"`
	Region    string `json:"region"`
	Endpoint  string `json:"endpoint"`
	Stage     string `json:"versionStage"`
	TTL       string `json:"secretTTL"`
	Identity  string `json:"identity"`
	VersionID string `json:"versionId,omitempty"` // read online
}

// diagnoseSecret fills in r for a secret plan (diagnose has parsed the host and made the plan).
func diagnoseSecret(k *keychain.Keychain, ctx context.Context, p *keychain.Plan, r *doctorReport, online bool) {
	s := p.Secret
	r.Region, r.How = p.Region, p.How
	r.Edition = "not ACR: login from a KMS secret"
	r.Entry = p.Entry.Describe()
	r.RoleChain = sts.ARNs(p.Hops)
	r.Sources = p.Chain.Sources()
	r.Using = p.Chain.Describe()
	r.ECSSkipped = p.Chain.ECSSkipped
	r.Secret = &secretReport{Secret: s.Ref.String(), ARN: s.ARN(), Region: s.Ref.Region, Endpoint: s.Endpoint.String(),
		Stage: s.Stage, TTL: s.TTL.String(), Identity: secretReader(p)}
	if r.Stored {
		r.How = append(r.How, "a stored login (docker login) is used before the secret")
	}
	if e, ok := k.Cache.Get(p.Key); ok {
		r.Cached = &cachedToken{Username: e.Username, ExpiresAt: e.ExpiresAt, FetchedAt: e.FetchedAt, Fresh: e.Fresh(k.Now(), 0)}
	}
	if p.Chain.Empty() && !r.Stored {
		r.noCredentials("no Alibaba Cloud credentials on this machine to read the secret with", p.Chain.ECSSkipped, online)
		return
	}
	if online {
		runSteps(k, ctx, p, r)
	}
}

// secretReader names who reads the secret: the base credentials (or that there are none yet),
// then each role hop.
func secretReader(p *keychain.Plan) string {
	who := p.Chain.Describe()
	if p.Chain.Empty() {
		who = "no credentials on this machine yet"
	}
	for _, arn := range sts.ARNs(p.Hops) {
		who += " → " + arn
	}
	return who
}

// printSecret prints the secret lines of a report.
func (r *doctorReport) printSecret(line func(k, v string)) {
	if r.Secret == nil {
		return
	}
	line("secret", r.Secret.Secret)
	if r.Secret.ARN != r.Secret.Secret {
		line("secret ARN", r.Secret.ARN)
	}
	line("KMS endpoint", r.Secret.Endpoint)
	line("version stage", r.Secret.Stage)
	line("secretTTL", r.Secret.TTL)
	line("read by", r.Secret.Identity)
	line("version read", r.Secret.VersionID)
}

// configMatchImages are the --match-image arguments of the domains of the helper's config file
// (docker.io with every host name of Docker Hub), so that print-kubelet-config covers the
// registries the config serves. A config that cannot be read is said on stderr, and the config
// is printed without them.
func configMatchImages(getenv func(string) string, stderr io.Writer) []string {
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "print-kubelet-config: warning: %v; its domains are not in matchImages (fix the config and run again)\n", err)
		return nil
	}
	var args []string
	for _, d := range cfg.Domains() {
		if !strings.Contains(d, "/") { // https://index.docker.io/v1/ is a server URL, not an image prefix
			args = append(args, "--match-image", d)
		}
	}
	return args
}
