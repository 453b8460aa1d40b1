package fakecloud_test

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

const (
	acct      = "1234567890123456"
	otherAcct = "6543210987654321"

	userAK, userSK     = "LTAI5tTestUser000001", "test-secret-user-000001"
	noPwdAK, noPwdSK   = "LTAI5tTestNoPwd00002", "test-secret-nopwd-00002"
	deniedAK, deniedSK = "LTAI5tTestDenied0003", "test-secret-denied-0003"
	rootAK, rootSK     = "LTAI5tTestRoot000004", "test-secret-root-000004"
	otherAK, otherSK   = "LTAI5tTestOther00005", "test-secret-other-00005"

	pullerARN   = "acs:ram::" + acct + ":role/acr-puller"
	chainedARN  = "acs:ram::" + acct + ":role/acr-chained"
	crossARN    = "acs:ram::" + acct + ":role/cross-account"
	rrsaARN     = "acs:ram::" + acct + ":role/rrsa-role"
	ecsRoleARN  = "acs:ram::" + acct + ":role/ecs-role"
	providerARN = "acs:ram::" + acct + ":oidc-provider/ack-rrsa-test"
	oidcToken   = "eyJhbGciOiJSUzI1NiJ9.test-oidc.sig"

	instID  = "cri-testinstance0001"
	instID2 = "cri-testinstance0002"
)

// cleanEnv keeps the SDKs away from the developer's configuration, proxies and the real
// metadata service.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") {
			t.Setenv(k, "")
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"} {
		t.Setenv(k, "")
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}

// newWorld starts a fake with one account holding users, roles and two instances.
func newWorld(t *testing.T) *fakecloud.Server {
	t.Helper()
	cleanEnv(t)
	fc := fakecloud.New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fc.AddUser(fakecloud.User{AccountID: acct, Name: "ci", AccessKeyID: userAK, AccessKeySecret: userSK, RegistryPassword: true}))
	must(fc.AddUser(fakecloud.User{AccountID: acct, Name: "nopwd", AccessKeyID: noPwdAK, AccessKeySecret: noPwdSK}))
	must(fc.AddUser(fakecloud.User{AccountID: acct, Name: "denied", AccessKeyID: deniedAK, AccessKeySecret: deniedSK,
		RegistryPassword: true, Deny: []string{"cr:GetAuthorizationToken", "cr:ListInstance", "cr:ListInstanceEndpoint", "sts:AssumeRole"}}))
	must(fc.AddUser(fakecloud.User{AccountID: acct, Root: true, AccessKeyID: rootAK, AccessKeySecret: rootSK}))
	must(fc.AddUser(fakecloud.User{AccountID: otherAcct, Name: "other", AccessKeyID: otherAK, AccessKeySecret: otherSK}))
	must(fc.AddRole(fakecloud.Role{AccountID: acct, Name: "acr-puller", TrustedAccounts: []string{acct}, MaxSessionDuration: 2 * time.Hour}))
	must(fc.AddRole(fakecloud.Role{AccountID: acct, Name: "acr-chained", TrustedPrincipals: []string{pullerARN}}))
	must(fc.AddRole(fakecloud.Role{AccountID: acct, Name: "cross-account", TrustedAccounts: []string{otherAcct}, ExternalID: "abcd-1234"}))
	must(fc.AddRole(fakecloud.Role{AccountID: acct, Name: "rrsa-role"}))
	must(fc.AddRole(fakecloud.Role{AccountID: acct, Name: "ecs-role"}))
	must(fc.AddInstance(fakecloud.Instance{AccountID: acct, ID: instID, Name: "acme", Region: "cn-hangzhou",
		CustomDomains: []string{"registry.acme.example"}}))
	must(fc.AddInstance(fakecloud.Instance{AccountID: acct, ID: instID2, Name: "acme-staging", Region: "cn-shanghai"}))
	must(fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: providerARN, RoleARN: rrsaARN, Token: oidcToken}))
	must(fc.Start())
	t.Cleanup(fc.Close)
	return fc
}

func config(fc *fakecloud.Server, ak, sk, token string) *openapi.Config {
	return configAt(fc.Endpoint(), ak, sk, token)
}

func configAt(endpoint, ak, sk, token string) *openapi.Config {
	c := &openapi.Config{
		Endpoint: tea.String(endpoint),
		Protocol: tea.String("http"),
		// Generous bounds that only stop a hung test: a loaded machine (load 10 on 2 cores) can
		// take seconds to schedule a fresh process's first answer. Tests about timeouts set
		// their own.
		ConnectTimeout: tea.Int(60000),
		ReadTimeout:    tea.Int(60000),
	}
	if ak != "" {
		c.AccessKeyId, c.AccessKeySecret = tea.String(ak), tea.String(sk)
	}
	if token != "" {
		c.SecurityToken = tea.String(token)
	}
	return c
}

func crClient(t *testing.T, c *openapi.Config) *cr.Client {
	t.Helper()
	cl, err := cr.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func stsClient(t *testing.T, c *openapi.Config) *sts.Client {
	t.Helper()
	cl, err := sts.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// personalToken calls GET /tokens the way the helper does: CallApi, ROA, 2016-06-07.
func personalToken(cl *cr.Client) (map[string]any, error) {
	params := &openapi.Params{
		Action:      tea.String("GetAuthorizationToken"),
		Version:     tea.String("2016-06-07"),
		Protocol:    tea.String("HTTPS"),
		Pathname:    tea.String("/tokens"),
		Method:      tea.String("GET"),
		AuthType:    tea.String("AK"),
		Style:       tea.String("ROA"),
		ReqBodyType: tea.String("json"),
		BodyType:    tea.String("json"),
	}
	res, err := cl.CallApi(params, &openapi.OpenApiRequest{}, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := res["body"].(map[string]any)
	return body, nil
}

func enterpriseToken(cl *cr.Client, id string) (*cr.GetAuthorizationTokenResponse, error) {
	return cl.GetAuthorizationToken(&cr.GetAuthorizationTokenRequest{InstanceId: tea.String(id)})
}

// sdkError asserts err is a *tea.SDKError with code and status.
func sdkError(t *testing.T, err error, code string, status int) *tea.SDKError {
	t.Helper()
	if err == nil {
		t.Fatalf("want SDKError %s, got success", code)
	}
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("want *tea.SDKError %s, got %T: %v", code, err, err)
	}
	if got := tea.StringValue(se.Code); got != code {
		t.Fatalf("want code %s, got %s (%v)", code, got, err)
	}
	if status != 0 && tea.IntValue(se.StatusCode) != status {
		t.Fatalf("want status %d, got %d (%v)", status, tea.IntValue(se.StatusCode), err)
	}
	return se
}

func lastCall(t *testing.T, fc *fakecloud.Server, action string) fakecloud.Call {
	t.Helper()
	calls := fc.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Action == action || calls[i].Action+"@"+calls[i].Version == action {
			return calls[i]
		}
	}
	t.Fatalf("no call %s recorded", action)
	return fakecloud.Call{}
}

// hookClient is a dara.HttpClient that lets a test see or alter the wire request.
type hookClient struct {
	hook func(*http.Request)
}

func (h hookClient) Call(req *http.Request, tr *http.Transport) (*http.Response, error) {
	if h.hook != nil {
		h.hook(req)
	}
	return (&http.Client{Transport: tr}).Do(req)
}
