package sts

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// ChainOptions say how to build the base chain.
type ChainOptions struct {
	// ECSMetadata allows the ECS metadata service even where DMI does not name Alibaba Cloud.
	ECSMetadata bool
	// OIDC, when set, replaces the chain: the base credentials come from AssumeRoleWithOIDC
	// (RRSA configured in the helper's config file, or a kubelet service-account token).
	OIDC *OIDC
	// STSEndpoint and Retry are where and how the chain's own STS calls go (the OIDC exchange
	// of ALIBABA_CLOUD_ROLE_ARN and friends, the role of a profile).
	STSEndpoint cloudapi.Endpoint
	Retry       cloudapi.Retry
	// OIDCAudience is the audience asked of a CI's token service (GitHub Actions);
	// "" is defaultOIDCAudience.
	OIDCAudience string
	// DMIDir is where DMI identifies the machine ("/sys/class/dmi/id" when empty).
	DMIDir string
	// Getenv looks up the credential-chain variables (ALIBABA_CLOUD_ACCESS_KEY_ID and the others
	// credentials-go reads, and HOME); os.Getenv-compatible. Nil is an empty environment.
	Getenv func(string) string
}

// env looks up a variable, trimmed.
func (o ChainOptions) env(name string) string {
	if o.Getenv == nil {
		return ""
	}
	return strings.TrimSpace(o.Getenv(name))
}

// homeDir is the user's home directory as os.UserHomeDir finds it, from the injected environment.
func (o ChainOptions) homeDir() string {
	switch runtime.GOOS {
	case "windows":
		return o.env("USERPROFILE")
	case "plan9":
		return o.env("home")
	}
	return o.env("HOME")
}

// Chain is the base credentials chain: the sources present on this machine, in the order of the
// credentials-go default chain: environment AccessKey, RRSA/OIDC, Alibaba Cloud CLI profile,
// credentials file, ECS RAM role, credentials URI. Finding the sources reads only local files.
type Chain struct {
	sources []source
	// ECSSkipped says the ECS metadata service was left out, and why (for the not-found hint).
	ECSSkipped string
}

type source struct {
	name     string
	identity string // what identifies the credentials without the network (no secrets)
	get      func(ctx context.Context) (Credentials, error)
	fix      string // what to do when it fails: fix it, or the switch that turns it off
}

// NewChain finds the sources of credentials present on this machine.
func NewChain(o ChainOptions) *Chain {
	c := &Chain{}
	env := o.env
	if o.OIDC != nil {
		c.sources = append(c.sources, source{o.OIDC.name(), "oidc\x00" + o.OIDC.RoleARN + "\x00" + o.OIDC.ProviderARN + "\x00" + o.OIDC.identity(), o.OIDC.Credentials, "check the role, its trust policy for the OIDC provider, and the token"})
		return c
	}
	if id := env("ALIBABA_CLOUD_ACCESS_KEY_ID"); id != "" && env("ALIBABA_CLOUD_ACCESS_KEY_SECRET") != "" {
		c.sources = append(c.sources, source{"environment AccessKey", "env\x00" + id, func(context.Context) (Credentials, error) {
			return Credentials{
				AccessKeyID:     id,
				AccessKeySecret: env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
				SecurityToken:   env("ALIBABA_CLOUD_SECURITY_TOKEN"),
				Source:          "environment AccessKey (ALIBABA_CLOUD_ACCESS_KEY_ID)",
			}, nil
		}, "fix ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, or unset them to use the next source"})
	}
	if src, ok := oidcFromEnv(o); ok {
		c.sources = append(c.sources, src)
	}
	c.sources = append(c.sources, profileSources(o)...)
	if ok, why := ecsAllowed(o); ok {
		// The metadata service is asked directly (ecsmetadata.go), never through a proxy.
		role := env("ALIBABA_CLOUD_ECS_METADATA")
		label := "ECS RAM role"
		if role != "" {
			label += " " + role
		}
		ecs := newECSRAMRole(role, strings.EqualFold(env("ALIBABA_CLOUD_IMDSV1_DISABLED"), "true"))
		c.sources = append(c.sources, source{name: label + " (instance metadata service)", identity: "ecs\x00" + role, get: ecs.Credentials,
			fix: "check the RAM role attached to the instance (ECS console), or set ALIBABA_CLOUD_ECS_METADATA_DISABLED=true to use the next source"})
	} else {
		c.ECSSkipped = why
	}
	if uri := env("ALIBABA_CLOUD_CREDENTIALS_URI"); uri != "" {
		c.sources = append(c.sources, source{"credentials URI " + uri, "uri\x00" + uri,
			credentialsGo("credentials URI", func() (providers.CredentialsProvider, error) {
				return providers.NewURLCredentialsProviderBuilder().WithUrl(uri).
					WithHttpOptions(&providers.HttpOptions{ConnectTimeout: 2000, ReadTimeout: 5000}).Build()
			}), "check the service at ALIBABA_CLOUD_CREDENTIALS_URI"})
	}
	return c
}

// oidcFromEnv is the OIDC source of the environment, as credentials-go finds it: the role
// and provider (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN) with the token itself
// (ALIBABA_CLOUD_OIDC_TOKEN, as GitLab's id_tokens set it) or a token file (RRSA); failing both,
// in a GitHub Actions job with `id-token: write`, a token asked of the job's token service.
func oidcFromEnv(o ChainOptions) (source, bool) {
	env := o.env
	role, pa := env("ALIBABA_CLOUD_ROLE_ARN"), env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
	if role == "" || pa == "" {
		return source{}, false
	}
	p := &OIDC{RoleARN: role, ProviderARN: pa, SessionName: env("ALIBABA_CLOUD_ROLE_SESSION_NAME"), Endpoint: o.STSEndpoint, Retry: o.Retry}
	fix := "fix the role, its trust policy or the token file, or unset ALIBABA_CLOUD_ROLE_ARN to use the next source"
	switch tok, tf := env("ALIBABA_CLOUD_OIDC_TOKEN"), env("ALIBABA_CLOUD_OIDC_TOKEN_FILE"); {
	case tok != "":
		p.Token = tok
		p.label = "OIDC token of ALIBABA_CLOUD_OIDC_TOKEN for role " + role
		fix = "check the role's trust policy for the OIDC provider and the token's audience (sts.aliyuncs.com), or unset ALIBABA_CLOUD_ROLE_ARN to use the next source"
	case tf != "":
		p.TokenFile = tf
	case env(envGitHubTokenURL) != "" && env(envGitHubTokenToken) != "":
		aud := o.OIDCAudience
		if aud == "" {
			aud = defaultOIDCAudience
		}
		p = githubActionsOIDC(role, pa, p.SessionName, env(envGitHubTokenURL), env(envGitHubTokenToken), aud, githubJobIdentity(o), o.STSEndpoint, o.Retry)
		fix = "check that the job has the id-token permission (write), that the role trusts the OIDC provider for this repository, and the audience (DOCKER_CREDENTIAL_ACR_OIDC_AUDIENCE), or unset ALIBABA_CLOUD_ROLE_ARN to use the next source"
	default:
		return source{}, false
	}
	return source{name: p.name(), identity: "oidc\x00" + role + "\x00" + pa + "\x00" + p.identity(), get: p.Credentials, fix: fix}, true
}

// Empty reports whether no source of credentials is present.
func (c *Chain) Empty() bool { return len(c.sources) == 0 }

// Identity identifies the credentials the chain would use, without the network and without
// secrets: the first source present. Switching identity changes it.
func (c *Chain) Identity() string {
	if len(c.sources) == 0 {
		return ""
	}
	return c.sources[0].identity
}

// Describe names the source the chain would use.
func (c *Chain) Describe() string {
	if len(c.sources) == 0 {
		return "none"
	}
	return c.sources[0].name
}

// Sources names every source present, in order.
func (c *Chain) Sources() []string {
	var names []string
	for _, s := range c.sources {
		names = append(names, s.name)
	}
	return names
}

// Credentials asks the first source present, and only it. A source that is present but fails is
// an error naming it: the chain never falls back to a later source, whose identity would differ
// from the one the cache key, the log line and doctor name (credentials-go's rule: the first
// source present is the one used).
func (c *Chain) Credentials(ctx context.Context) (Credentials, error) {
	if len(c.sources) == 0 {
		return Credentials{}, ErrNoCredentials
	}
	s := c.sources[0]
	if err := ctx.Err(); err != nil {
		return Credentials{}, &ChainError{Source: s.name, Fix: s.fix, Err: err}
	}
	cr, err := s.get(ctx)
	if err == nil && !cr.valid() {
		err = errors.New("returned an empty AccessKey")
	}
	if err != nil {
		return Credentials{}, &ChainError{Source: s.name, Fix: s.fix, Others: len(c.sources) - 1, Err: err}
	}
	return cr, nil
}

// ChainError says that the source of credentials in use failed, and how to fix or switch it.
type ChainError struct {
	Source string // the source's name, as Describe gives it
	Fix    string // how to fix it, or to stop using it so that the next source present is used
	Others int    // how many other sources are present (never tried)
	Err    error
}

func (e *ChainError) Error() string {
	s := e.Source + ": " + e.Err.Error()
	if e.Others > 0 {
		s += fmt.Sprintf(" (the first source of credentials present is the one used; %d other source(s) present were not tried)", e.Others)
	}
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

func (e *ChainError) Unwrap() error { return e.Err }

// credentialsGo adapts a credentials-go provider, turning its panics into errors (it panics on
// some malformed STS and metadata answers).
func credentialsGo(label string, build func() (providers.CredentialsProvider, error)) func(context.Context) (Credentials, error) {
	return func(ctx context.Context) (cr Credentials, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("the credentials provider failed on a malformed answer")
			}
		}()
		p, err := build()
		if err != nil {
			return Credentials{}, scrubbed(err)
		}
		type result struct {
			c   *providers.Credentials
			err error
		}
		ch := make(chan result, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					ch <- result{nil, fmt.Errorf("the credentials provider failed on a malformed answer")}
				}
			}()
			c, err := p.GetCredentials()
			ch <- result{c, err}
		}()
		select {
		case <-ctx.Done():
			return Credentials{}, fmt.Errorf("gave up waiting for %s: %w", label, ctx.Err())
		case r := <-ch:
			if r.err != nil {
				return Credentials{}, scrubbed(r.err)
			}
			if r.c == nil {
				return Credentials{}, errors.New("returned no credentials")
			}
			return Credentials{AccessKeyID: r.c.AccessKeyId, AccessKeySecret: r.c.AccessKeySecret, SecurityToken: r.c.SecurityToken, Source: label}, nil
		}
	}
}

// unreadable is a source that is present but cannot be read: it fails with the reason, so that
// the next source present is not used in its place.
func unreadable(name, identity string, err error, fix string) source {
	return source{name: name, identity: identity + "\x00unreadable", fix: fix, get: func(context.Context) (Credentials, error) {
		return Credentials{}, fmt.Errorf("cannot read it: %v", errors.Unwrap(err))
	}}
}

// ecsAllowed says whether the ECS metadata service may exist here: asked for by the user, or on a
// machine whose DMI names Alibaba Cloud. Elsewhere asking it costs seconds of timeouts for nothing.
func ecsAllowed(o ChainOptions) (bool, string) {
	env := o.env
	if o.metadataDisabled() {
		return false, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"
	}
	if env("ALIBABA_CLOUD_ECS_METADATA") != "" || o.ECSMetadata {
		return true, ""
	}
	dir := o.DMIDir
	if dir == "" {
		dir = "/sys/class/dmi/id"
	}
	for _, f := range []string{"sys_vendor", "product_name"} {
		b, err := readSmall(filepath.Join(dir, f))
		if err == nil && strings.Contains(strings.ToLower(string(b)), "alibaba cloud") {
			return true, ""
		}
	}
	return false, "this machine does not look like an Alibaba Cloud ECS instance (DMI); set ALIBABA_CLOUD_ECS_METADATA=<role name> or ecsMetadata: true in the config to use the instance's RAM role"
}
