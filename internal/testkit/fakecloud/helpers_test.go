package fakecloud_test

import (
	"errors"
	"net/http"
	"testing"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The fake's own tests run in the shared test world (testdata/world.json); these pick its parts.
var (
	world     = testkit.Load()
	acct      = world.Account("main")
	otherAcct = world.Account("partner")

	userAK, userSK     = world.User("dev").AccessKeyID, world.User("dev").AccessKeySecret
	noPwdAK, noPwdSK   = world.User("nopw").AccessKeyID, world.User("nopw").AccessKeySecret
	deniedAK, deniedSK = world.User("locked-down").AccessKeyID, world.User("locked-down").AccessKeySecret
	rootAK, rootSK     = world.User("root").AccessKeyID, world.User("root").AccessKeySecret
	otherAK, otherSK   = world.User("partner").AccessKeyID, world.User("partner").AccessKeySecret

	pullerARN   = world.Role("acr-puller").ARN()  // max session 2h, trusts the main account
	chainedARN  = world.Role("acr-chained").ARN() // trusts acr-puller sessions
	crossARN    = world.Role("cross-account").ARN()
	rrsaARN     = world.Role("rrsa-role").ARN()
	ecsRoleARN  = world.Role("ecs-node").ARN()
	providerARN = world.OIDCToken("rrsa-role").ProviderARN
	oidcToken   = world.OIDCToken("rrsa-role").Token

	instID  = world.Instance("corp").ID // cn-hangzhou, custom domain corp.example.com
	instID2 = world.Instance("edge").ID // cn-shanghai
)

// cleanEnv keeps the SDKs away from the developer's configuration, proxies and the real
// metadata service.
func cleanEnv(t *testing.T) { testkit.ScrubEnv(t) }

// newWorld starts a fake holding the shared world.
func newWorld(t *testing.T) *fakecloud.Server {
	t.Helper()
	cleanEnv(t)
	fc, _ := testkit.StartFake(t)
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
