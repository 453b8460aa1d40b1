package sts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	stsapi "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
)

// AssumeRole is one role hop performed: it asks STS, with the credentials of Base, for
// credentials of the hop's role. Build it with [Hop.Assume] or [Through].
type AssumeRole struct {
	Base Provider
	Hop
	Endpoint cloudapi.Endpoint
	Retry    cloudapi.Retry // zero: the production retry policy
}

// Credentials performs the hop. If STS says the base credentials expired (they can, between two
// hops), it asks Base once more for fresh ones and retries.
func (a *AssumeRole) Credentials(ctx context.Context) (Credentials, error) {
	for attempt := 0; ; attempt++ {
		base, err := a.Base.Credentials(ctx)
		if err != nil {
			return Credentials{}, err
		}
		c, err := a.assume(ctx, base)
		var ae *cloudapi.Error
		if err != nil && attempt == 0 && errors.As(err, &ae) && ae.Code == "InvalidSecurityToken.Expired" {
			continue
		}
		return c, err
	}
}

func (a *AssumeRole) assume(ctx context.Context, base Credentials) (Credentials, error) {
	cfg := cloudapi.Config(a.Endpoint, "")
	cfg.AccessKeyId = dara.String(base.AccessKeyID)
	cfg.AccessKeySecret = dara.String(base.AccessKeySecret)
	if base.SecurityToken != "" {
		cfg.SecurityToken = dara.String(base.SecurityToken)
	}
	client, err := stsapi.NewClient(cfg)
	if err != nil {
		return Credentials{}, fmt.Errorf("sts client: %s", cloudapi.Scrub(err.Error()))
	}
	dur := a.Duration
	if dur == 0 {
		dur = time.Hour
	}
	session := a.SessionName
	if session == "" {
		session = "docker-credential-acr"
	}
	q := map[string]*string{
		"RoleArn":         dara.String(a.RoleARN),
		"RoleSessionName": dara.String(session),
		"DurationSeconds": dara.String(strconv.Itoa(int(dur / time.Second))),
	}
	if a.ExternalID != "" {
		q["ExternalId"] = dara.String(a.ExternalID)
	}
	body, err := cloudapi.Call(ctx, &client.Client, cloudapi.Request{
		Service: "sts", Endpoint: a.Endpoint, Query: q, Params: assumeRoleParams("AssumeRole", "AK"), Retry: a.Retry,
	})
	if err != nil {
		return Credentials{}, err
	}
	return decodeSTS(body, "role "+a.RoleARN+" (AssumeRole with "+base.Source+")")
}

// OIDC gets credentials with AssumeRoleWithOIDC: a signed identity token (RRSA on ACK, a kubelet
// service-account token, a CI's OIDC token) exchanged for a role. The call is not signed.
type OIDC struct {
	RoleARN     string
	ProviderARN string
	TokenFile   string // read at each call: the token rotates
	Token       string // used when TokenFile is empty
	// Subject, when set with Token, names the token's holder in the identity (cache keys) in
	// place of a digest of the token: a kubelet hands out a new service-account token at each
	// pull, and every token of one subject, for one role and provider, is one identity.
	Subject     string
	SessionName string
	Duration    time.Duration
	Endpoint    cloudapi.Endpoint
	Retry       cloudapi.Retry // zero: the production retry policy
	// fetch, when Token and TokenFile are empty, asks a CI's token service for a fresh token at
	// each call (GitHub Actions); fetchID names that service in the identity, since the token
	// itself is known only after the call.
	fetch   func(ctx context.Context) (string, error)
	fetchID string
	label   string // the source's name in messages; "" is "RRSA (OIDC) role <RoleARN>"
}

func (o *OIDC) name() string {
	if o.label != "" {
		return o.label
	}
	return "RRSA (OIDC) role " + o.RoleARN
}

func (o *OIDC) identity() string {
	if o.TokenFile != "" {
		return "file:" + o.TokenFile
	}
	if o.Token == "" && o.fetchID != "" {
		return o.fetchID
	}
	if o.Subject != "" {
		return "subject:" + o.Subject
	}
	return "token:" + digest([]byte(o.Token))
}

// Credentials performs AssumeRoleWithOIDC.
func (o *OIDC) Credentials(ctx context.Context) (Credentials, error) {
	token := o.Token
	if o.TokenFile != "" {
		b, err := readSmall(o.TokenFile)
		if err != nil {
			return Credentials{}, fmt.Errorf("cannot read the OIDC token file %s: %v", o.TokenFile, errors.Unwrap(err))
		}
		token = strings.TrimSpace(string(b))
	} else if token == "" && o.fetch != nil {
		t, err := o.fetch(ctx)
		if err != nil {
			return Credentials{}, err
		}
		token = t
	}
	if token == "" {
		return Credentials{}, errors.New("the OIDC token is empty")
	}
	client, err := stsapi.NewClient(cloudapi.Config(o.Endpoint, ""))
	if err != nil {
		return Credentials{}, fmt.Errorf("sts client: %s", cloudapi.Scrub(err.Error()))
	}
	dur := o.Duration
	if dur == 0 {
		dur = time.Hour
	}
	session := o.SessionName
	if session == "" {
		session = "docker-credential-acr"
	}
	body, err := cloudapi.Call(ctx, &client.Client, cloudapi.Request{
		Service: "sts", Endpoint: o.Endpoint, LegacyRPC: true, Retry: o.Retry,
		Params: assumeRoleParams("AssumeRoleWithOIDC", "Anonymous"),
		Query: map[string]*string{
			"RoleArn":         dara.String(o.RoleARN),
			"OIDCProviderArn": dara.String(o.ProviderARN),
			"OIDCToken":       dara.String(token),
			"RoleSessionName": dara.String(session),
			"DurationSeconds": dara.String(strconv.Itoa(int(dur / time.Second))),
		},
	})
	if err != nil {
		return Credentials{}, err
	}
	return decodeSTS(body, o.name())
}

// The parameters sts-20150401 v2.1.0 uses for these actions.
func assumeRoleParams(action, auth string) *openapi.Params {
	return &openapi.Params{
		Action:      dara.String(action),
		Version:     dara.String("2015-04-01"),
		Protocol:    dara.String("HTTPS"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String(auth),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
}

// stsRead are the fields of an AssumeRole* answer the helper reads; the others may be of any type.
var stsRead = cloudapi.Fields{"Credentials": {"AccessKeyId": nil, "AccessKeySecret": nil, "SecurityToken": nil, "Expiration": nil}}

// decodeSTS reads the Credentials of an AssumeRole* answer into the SDK's model, with the one
// tolerant decoder (cloudapi.Decode): a field it does not read never fails the call.
func decodeSTS(body map[string]any, source string) (Credentials, error) {
	var resp stsapi.AssumeRoleResponseBody
	if err := cloudapi.Decode(body, stsRead, &resp); err != nil || resp.Credentials == nil {
		return Credentials{}, errors.New("sts: the answer has no Credentials: is the STS endpoint right?")
	}
	cr := resp.Credentials
	c := Credentials{
		AccessKeyID:     dara.StringValue(cr.AccessKeyId),
		AccessKeySecret: dara.StringValue(cr.AccessKeySecret),
		SecurityToken:   dara.StringValue(cr.SecurityToken),
		Source:          source,
	}
	if !c.valid() || c.SecurityToken == "" {
		return Credentials{}, errors.New("sts: the answer's Credentials lack AccessKeyId, AccessKeySecret or SecurityToken")
	}
	exp, err := time.Parse(time.RFC3339, dara.StringValue(cr.Expiration))
	if err != nil {
		return Credentials{}, fmt.Errorf("sts: the answer's Expiration %q is not a time", dara.StringValue(cr.Expiration))
	}
	c.Expiration = exp
	return c, nil
}

func scrubbed(err error) error { return errors.New(cloudapi.Scrub(err.Error())) }
