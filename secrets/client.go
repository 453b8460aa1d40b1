package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/dara"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// Endpoint resolves the KMS endpoint of region: kms.<region>.aliyuncs.com,
// kms-vpc.<region>.aliyuncs.com with vpc, or override (the `endpoints.kms` setting, with
// "{region}" allowed; plain http for loopback hosts only), as cloudapi.ResolveEndpoint does
// for cr and sts.
func Endpoint(override, region string, vpc bool) (cloudapi.Endpoint, error) {
	return cloudapi.ResolveEndpoint(override, "kms", region, vpc)
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
func (c *Client) Login(ctx context.Context, ref Ref, stage string) (Login, error) {
	stage, err := CheckStage(stage)
	if err != nil {
		return Login{}, err
	}
	if ref.Name == "" || ref.Region == "" {
		return Login{}, errors.New("secrets: Login needs a parsed secret reference (ParseRef)")
	}
	if c.Credentials == nil {
		return Login{}, errors.New("secrets: no credentials to sign the KMS call with")
	}
	creds, err := c.Credentials.Credentials(ctx)
	if err != nil {
		return Login{}, err
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
				return Login{}, &Error{Kind: NotFound, Ref: ref, Stage: stage, Endpoint: c.Endpoint.String(), Err: err}
			case "Forbidden.NoPermission", "NoPermission":
				return Login{}, &Error{Kind: NoPermission, Ref: ref, Stage: stage, Identity: creds.String(), Err: err}
			}
		}
		return Login{}, fmt.Errorf("reading Alibaba Cloud KMS secret %s: %w", ref, err)
	}
	version := dara.StringValue(body.VersionId)
	if strings.EqualFold(dara.StringValue(body.SecretDataType), "binary") {
		return Login{}, &Error{Kind: Binary, Ref: ref, Stage: stage, VersionID: version}
	}
	user, pass, err := decodeLogin(dara.StringValue(body.SecretData))
	if err != nil {
		return Login{}, &Error{Kind: NotLogin, Ref: ref, Stage: stage, VersionID: version, Detail: err.Error()}
	}
	l := Login{Username: user, Password: pass, VersionID: version}
	if body.VersionStages != nil {
		for _, s := range body.VersionStages.VersionStage {
			if s != nil {
				l.Stages = append(l.Stages, *s)
			}
		}
	}
	return l, nil
}

// call sends GetSecretValue and decodes the answer into the SDK's model. The model prints
// SecretData in its String method: it must never reach a message.
func (c *Client) call(ctx context.Context, ref Ref, stage string, creds sts.Credentials) (*kms.GetSecretValueResponseBody, error) {
	cfg := cloudapi.Config(c.Endpoint, ref.Region)
	cfg.AccessKeyId = dara.String(creds.AccessKeyID)
	cfg.AccessKeySecret = dara.String(creds.AccessKeySecret)
	if creds.SecurityToken != "" {
		cfg.SecurityToken = dara.String(creds.SecurityToken)
	}
	client, err := kms.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kms client: %s", cloudapi.Scrub(err.Error()))
	}
	query := map[string]*string{"SecretName": dara.String(ref.SecretName()), "VersionStage": dara.String(stage)}
	res, err := cloudapi.Call(ctx, &client.Client, cloudapi.Request{Service: "kms", Endpoint: c.Endpoint, Params: params(), Query: query, Retry: c.Retry})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(res)
	var body kms.GetSecretValueResponseBody
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		return nil, fmt.Errorf("kms GetSecretValue: the answer from %s does not have the expected shape", c.Endpoint)
	}
	if body.SecretData == nil {
		return nil, fmt.Errorf("kms GetSecretValue: the answer from %s has no SecretData", c.Endpoint)
	}
	return &body, nil
}
