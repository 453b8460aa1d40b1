// Package kms reads registry logins from Alibaba Cloud KMS Secrets Manager: GetSecretValue through
// the kms-20160120 SDK (package secrets says what the call relies on). It is apart from package
// secrets so that only programs that read secrets link the KMS SDK: the docker-credential-acr
// binary and keychain/ggcr do, and a program that imports only package keychain does not
// (keychain.Options.KMS is where it plugs in).
package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// Endpoint resolves the KMS endpoint of region: kms.<region>.aliyuncs.com,
// kms-vpc.<region>.aliyuncs.com with vpc, or override (the `endpoints.kms` setting, with
// "{region}" allowed; plain http for loopback hosts only), as cloudapi.ResolveEndpoint does
// for cr and sts.
func Endpoint(override, region string, vpc bool) (cloudapi.Endpoint, error) {
	return cloudapi.ResolveEndpoint(override, "kms", region, vpc)
}

// New is the Client of a secret's endpoint (Endpoint), signing with creds, as a secrets.Reader:
// what keychain.Options.KMS takes.
func New(endpoint cloudapi.Endpoint, creds sts.Provider, account string, retry cloudapi.Retry) secrets.Reader {
	return &Client{Endpoint: endpoint, Credentials: creds, Account: account, Retry: retry}
}

// Client reads registry logins from KMS Secrets Manager.
type Client struct {
	// Endpoint is the KMS endpoint of the secret's region (see Endpoint).
	Endpoint cloudapi.Endpoint
	// Credentials sign the call: the entry's chain with its role hops.
	Credentials sts.Provider
	// Account is the signing identity's account when known (the last role hop's, from its ARN):
	// it completes the ARN of a bare secret name in messages. "" leaves "*" there.
	Account string
	// Retry is the retry policy of the call (the zero value is production's).
	Retry cloudapi.Retry
}

// params is GetSecretValue exactly as kms-20160120/v3 GetSecretValueWithOptions builds it.
func params() *openapi.Params {
	return &openapi.Params{
		Action: dara.String("GetSecretValue"), Version: dara.String("2016-01-20"), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
}

// Login reads the login stored in ref at version stage ("" is DefaultStage).
func (c *Client) Login(ctx context.Context, ref secrets.Ref, stage string) (secrets.Login, error) {
	stage, err := secrets.CheckStage(stage)
	if err != nil {
		return secrets.Login{}, err
	}
	if ref.Name == "" || ref.Region == "" {
		return secrets.Login{}, errors.New("secrets: Login needs a parsed secret reference (ParseRef)")
	}
	if c.Credentials == nil {
		return secrets.Login{}, errors.New("secrets: no credentials to sign the KMS call with")
	}
	creds, err := c.Credentials.Credentials(ctx)
	if err != nil {
		return secrets.Login{}, err
	}
	ref = ref.WithAccount(c.Account)
	body, err := c.call(ctx, ref, stage, creds)
	if err != nil {
		var ae *cloudapi.Error
		if errors.As(err, &ae) {
			// Exact codes only: InvalidAccessKeyId.NotFound is a 404 too, and Forbidden.InDebt a
			// 403, and neither has the fix these kinds name.
			switch ae.Code {
			case "Forbidden.ResourceNotFound":
				return secrets.Login{}, &secrets.Error{Kind: secrets.NotFound, Ref: ref, Stage: stage, Endpoint: c.Endpoint.String(), Err: err}
			case "Forbidden.NoPermission", "NoPermission":
				return secrets.Login{}, &secrets.Error{Kind: secrets.NoPermission, Ref: ref, Stage: stage, Identity: creds.String(), Err: err}
			}
		}
		return secrets.Login{}, fmt.Errorf("reading Alibaba Cloud KMS secret %s: %w", ref, err)
	}
	version := dara.StringValue(body.VersionId)
	if strings.EqualFold(dara.StringValue(body.SecretDataType), "binary") {
		return secrets.Login{}, &secrets.Error{Kind: secrets.Binary, Ref: ref, Stage: stage, VersionID: version}
	}
	user, pass, err := secrets.DecodeLogin(dara.StringValue(body.SecretData))
	if err != nil {
		return secrets.Login{}, &secrets.Error{Kind: secrets.NotLogin, Ref: ref, Stage: stage, VersionID: version, Detail: err.Error()}
	}
	l := secrets.Login{Username: user, Password: pass, VersionID: version}
	if body.VersionStages != nil {
		for _, s := range body.VersionStages.VersionStage {
			if s != nil {
				l.Stages = append(l.Stages, *s)
			}
		}
	}
	return l, nil
}

// secretRead are the fields of a GetSecretValue answer read; the others may be of any type.
var secretRead = cloudapi.Fields{"SecretData": nil, "SecretDataType": nil, "VersionId": nil, "VersionStages": {"VersionStage": nil}}

// call sends GetSecretValue and decodes the answer into the SDK's model. The model prints
// SecretData in its String method: it must never reach a message.
func (c *Client) call(ctx context.Context, ref secrets.Ref, stage string, creds sts.Credentials) (*kmssdk.GetSecretValueResponseBody, error) {
	cfg := cloudapi.Config(c.Endpoint, ref.Region)
	cfg.AccessKeyId = dara.String(creds.AccessKeyID)
	cfg.AccessKeySecret = dara.String(creds.AccessKeySecret)
	if creds.SecurityToken != "" {
		cfg.SecurityToken = dara.String(creds.SecurityToken)
	}
	client, err := kmssdk.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kms client: %s", cloudapi.Scrub(err.Error()))
	}
	query := map[string]*string{"SecretName": dara.String(ref.SecretName()), "VersionStage": dara.String(stage)}
	res, err := cloudapi.Call(ctx, &client.Client, cloudapi.Request{Service: "kms", Endpoint: c.Endpoint, Params: params(), Query: query, Retry: c.Retry})
	if err != nil {
		return nil, err
	}
	var body kmssdk.GetSecretValueResponseBody
	if err := cloudapi.Decode(res, secretRead, &body); err != nil {
		return nil, fmt.Errorf("kms GetSecretValue: the answer from %s does not have the expected shape", c.Endpoint)
	}
	if body.SecretData == nil {
		return nil, fmt.Errorf("kms GetSecretValue: the answer from %s has no SecretData", c.Endpoint)
	}
	return &body, nil
}
