// Package sts knows Alibaba Cloud credentials: where the base credentials of this machine come from
// (the credentials-go default chain, with the ECS metadata service only where it can exist), and the
// STS role hops (AssumeRole, AssumeRoleWithOIDC) that turn them into other identities.
//
// Every source is a [Provider]; a role hop ([Hop], performed as [AssumeRole]) is a Provider wrapping
// another, so the cross-account chain ArnService → ArnUser is [RoleChain] applied with [Through]:
// AssumeRole{Base: AssumeRole{Base: chain}}.
package sts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Credentials are an AccessKey pair, with a security token and an expiry when they come from STS.
// They never print their secrets: String and LogValue show the AccessKey id's prefix and the source.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	Expiration      time.Time // zero for long-term AccessKeys, or when the source does not say
	Source          string    // where they came from, for messages: "environment AccessKey", "role acs:ram::…"
}

// Provider hands out credentials. Implementations make at most the calls they need per call.
type Provider interface {
	Credentials(ctx context.Context) (Credentials, error)
}

// ErrNoCredentials means that no source of credentials is configured on this machine at all.
var ErrNoCredentials = errors.New("no Alibaba Cloud credentials found")

func (c Credentials) String() string {
	id := c.AccessKeyID
	if len(id) > 8 {
		id = id[:8] + "…"
	}
	s := fmt.Sprintf("AccessKey %s from %s", id, c.Source)
	if !c.Expiration.IsZero() {
		s += ", expires " + c.Expiration.UTC().Format(time.RFC3339)
	}
	return s
}

// GoString keeps %#v from printing secrets.
func (c Credentials) GoString() string { return "sts.Credentials{" + c.String() + "}" }

// LogValue keeps slog from printing secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Credentials) valid() bool { return c.AccessKeyID != "" && c.AccessKeySecret != "" }

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context) (Credentials, error)

// Credentials calls f.
func (f ProviderFunc) Credentials(ctx context.Context) (Credentials, error) { return f(ctx) }

// Static always returns c.
func Static(c Credentials) Provider {
	return ProviderFunc(func(context.Context) (Credentials, error) { return c, nil })
}
