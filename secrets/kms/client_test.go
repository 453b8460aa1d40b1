package kms_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/secrets"
	"github.com/docker-credential-acr/docker-credential-acr/secrets/kms"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

const (
	acct      = "1111111111111111"
	otherAcct = "2222222222222222"
	userAK    = "LTAI5tSecretsUser001"
	userSK    = "secrets-user-secret-001"

	ghcrPW    = "ghp_SECRET_ghcr_0001"
	hubPW     = "dckr_pat_SECRET_0002"
	rotatedPW = "ghp_SECRET_ghcr_0003"

	readerRole = "acs:ram::" + otherAcct + ":role/secrets-reader"
	hubARN     = "acs:kms:cn-shanghai:" + otherAcct + ":secret/dockerhub-pull"
)

func login(user, pass string) string { return `{"username":"` + user + `","password":"` + pass + `"}` }

// world is a fake with: account 1111… (user ci) holding ghcr-pull, bad-json, no-password and
// blob in cn-hangzhou; account 2222… holding dockerhub-pull in cn-shanghai, readable by its
// secrets-reader role, which ci may assume.
type world struct {
	fc                 *fakecloud.Server
	hangzhou, shanghai string // per-region loopback endpoints (fakecloud.RegionHandler)
}

// fastRetry keeps the production retry count with millisecond pauses.
var fastRetry = cloudapi.Retry{Backoff: func(int) time.Duration { return time.Millisecond }}

func newWorld(t *testing.T) *world {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "ALICLOUD_") || strings.HasPrefix(strings.ToUpper(k), "DOCKER_CREDENTIAL_ACR") {
			t.Setenv(k, "")
		}
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")

	fc := fakecloud.New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fc.AddUser(fakecloud.User{AccountID: acct, Name: "ci", AccessKeyID: userAK, AccessKeySecret: userSK}))
	must(fc.AddRole(fakecloud.Role{AccountID: otherAcct, Name: "secrets-reader", TrustedAccounts: []string{acct}}))
	for _, s := range []fakecloud.Secret{
		{AccountID: acct, Region: "cn-hangzhou", Name: "ghcr-pull", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: login("octocat", ghcrPW)}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "bad-json", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: "user=octocat pass=" + ghcrPW}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "no-password", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: `{"Username":"octocat","token":"` + ghcrPW + `"}`}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "blob", DataType: "binary", Versions: []fakecloud.SecretVersion{{VersionID: "b1", Data: "Z2hwX1NFQ1JFVA=="}}},
		{AccountID: otherAcct, Region: "cn-shanghai", Name: "dockerhub-pull", Readers: []string{readerRole},
			Versions: []fakecloud.SecretVersion{{VersionID: "1", Data: `{"USERNAME":"acme","Password":"` + hubPW + `"}`}}},
	} {
		must(fc.AddSecret(s))
	}
	must(fc.Start())
	t.Cleanup(fc.Close)
	hz := httptest.NewServer(fc.RegionHandler("cn-hangzhou"))
	t.Cleanup(hz.Close)
	sh := httptest.NewServer(fc.RegionHandler("cn-shanghai"))
	t.Cleanup(sh.Close)
	return &world{fc: fc, hangzhou: hz.URL, shanghai: sh.URL}
}

func (w *world) user() sts.Provider {
	return sts.Static(sts.Credentials{AccessKeyID: userAK, AccessKeySecret: userSK, Source: "environment AccessKey (test)"})
}

// reader is the role hop ci → secrets-reader through the fake's STS.
func (w *world) reader(t *testing.T) sts.Provider {
	e, err := cloudapi.ResolveEndpoint(w.fc.URL(), "sts", "", false)
	if err != nil {
		t.Fatal(err)
	}
	return &sts.AssumeRole{Base: w.user(), Hop: sts.Hop{RoleARN: readerRole}, Endpoint: e, Retry: fastRetry}
}

func (w *world) client(t *testing.T, override, region string, creds sts.Provider) *kms.Client {
	t.Helper()
	e, err := kms.Endpoint(override, region, false)
	if err != nil {
		t.Fatal(err)
	}
	return &kms.Client{Endpoint: e, Credentials: creds, Retry: fastRetry}
}

func ref(t *testing.T, secret, region string) secrets.Ref {
	t.Helper()
	r, err := secrets.ParseRef(secret, region)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLogin(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()

	t.Run("GHCR by name with the machine's AccessKey", func(t *testing.T) {
		l, err := w.client(t, w.hangzhou, "cn-hangzhou", w.user()).Login(ctx, ref(t, "ghcr-pull", "cn-hangzhou"), "")
		if err != nil {
			t.Fatal(err)
		}
		if l.Username != "octocat" || l.Password != ghcrPW || l.VersionID != "v1" || len(l.Stages) != 1 || l.Stages[0] != "ACSCurrent" {
			t.Fatalf("got %v %v", l, l.Stages)
		}
		c := lastCall(t, w.fc)
		if c.Params["SecretName"] != "ghcr-pull" || c.Params["VersionStage"] != "ACSCurrent" || c.AccessKeyID != userAK || c.Style != "ACS3" {
			t.Fatalf("call %+v", c)
		}
	})

	t.Run("Docker Hub by ARN in another region and account, through a role hop", func(t *testing.T) {
		l, err := w.client(t, w.shanghai, "cn-shanghai", w.reader(t)).Login(ctx, ref(t, hubARN, ""), "")
		if err != nil {
			t.Fatal(err)
		}
		if l.Username != "acme" || l.Password != hubPW {
			t.Fatalf("got %v", l)
		}
		c := lastCall(t, w.fc)
		if c.Params["SecretName"] != hubARN || !strings.HasPrefix(c.AccessKeyID, "STS.") ||
			!strings.HasPrefix(c.Principal, "acs:ram::"+otherAcct+":assumed-role/secrets-reader/") {
			t.Fatalf("call %+v", c)
		}
		if w.fc.Count("AssumeRole") != 1 {
			t.Errorf("AssumeRole calls = %d", w.fc.Count("AssumeRole"))
		}
	})

	t.Run("rotation: the new version, and ACSPrevious the old one", func(t *testing.T) {
		if _, err := w.fc.PutSecretValue("acs:kms:cn-hangzhou:"+acct+":secret/ghcr-pull", login("octocat", rotatedPW)); err != nil {
			t.Fatal(err)
		}
		c := w.client(t, w.hangzhou, "cn-hangzhou", w.user())
		cur, err := c.Login(ctx, ref(t, "ghcr-pull", "cn-hangzhou"), "ACSCurrent")
		if err != nil || cur.Password != rotatedPW {
			t.Fatalf("current: %v %v", cur, err)
		}
		prev, err := c.Login(ctx, ref(t, "ghcr-pull", "cn-hangzhou"), "ACSPrevious")
		if err != nil || prev.Password != ghcrPW || prev.VersionID != "v1" {
			t.Fatalf("previous: %v %v", prev, err)
		}
	})
}

func TestLoginErrors(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name           string
		endpoint       string
		region, secret string
		stage          string
		creds          func() sts.Provider
		account        string
		kind           secrets.Kind
		has            []string
	}{
		{"unknown name", w.hangzhou, "cn-hangzhou", "nope", "", w.user, "", secrets.NotFound,
			[]string{"nope (cn-hangzhou) not found", "version stage ACSCurrent", "endpoint " + w.hangzhou, "Forbidden.ResourceNotFound (HTTP 404)"}},
		{"ARN in the wrong region's endpoint", w.hangzhou, "cn-hangzhou", hubARN, "", func() sts.Provider { return w.reader(t) }, "", secrets.NotFound,
			[]string{hubARN + " not found"}},
		{"unknown version stage", w.hangzhou, "cn-hangzhou", "ghcr-pull", "blue", w.user, "", secrets.NotFound,
			[]string{"version stage blue"}},
		{"no permission: the caller is not a reader", w.shanghai, "cn-shanghai", hubARN, "", w.user, "", secrets.NoPermission,
			[]string{"allow kms:GetSecretValue on " + hubARN + " to AccessKey LTAI5tSe… from environment AccessKey (test)", "Forbidden.NoPermission (HTTP 403)"}},
		{"not JSON", w.hangzhou, "cn-hangzhou", "bad-json", "", w.user, "", secrets.NotLogin,
			[]string{"(version v1) is not a registry login: the value is not a JSON object"}},
		{"no password key", w.hangzhou, "cn-hangzhou", "no-password", "", w.user, acct, secrets.NotLogin,
			[]string{`no "password" key`}},
		{"binary secret", w.hangzhou, "cn-hangzhou", "blob", "", w.user, "", secrets.Binary,
			[]string{"blob (cn-hangzhou) (version b1) is a binary secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.client(t, tt.endpoint, tt.region, tt.creds())
			c.Account = tt.account
			region := tt.region
			if strings.HasPrefix(tt.secret, "acs:") {
				region = ""
			}
			_, err := c.Login(context.Background(), ref(t, tt.secret, region), tt.stage)
			if err == nil {
				t.Fatal("no error")
			}
			if k := secrets.KindOf(err); k != tt.kind {
				t.Fatalf("kind %v, want %v: %v", k, tt.kind, err)
			}
			for _, h := range tt.has {
				if !strings.Contains(err.Error(), h) {
					t.Errorf("error %q lacks %q", err, h)
				}
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q carries the secret's value", err)
			}
		})
	}
}

func TestLoginNoPermissionNamesTheAccount(t *testing.T) {
	w := newWorld(t)
	if err := w.fc.AddUser(fakecloud.User{AccountID: acct, Name: "nokms", AccessKeyID: "LTAI5tSecretsNoKMS02", AccessKeySecret: "sk", Deny: []string{"kms:GetSecretValue"}}); err != nil {
		t.Fatal(err)
	}
	c := w.client(t, w.hangzhou, "cn-hangzhou", sts.Static(sts.Credentials{AccessKeyID: "LTAI5tSecretsNoKMS02", AccessKeySecret: "sk", Source: "profile ci"}))
	c.Account = acct
	_, err := c.Login(context.Background(), ref(t, "ghcr-pull", "cn-hangzhou"), "")
	want := "allow kms:GetSecretValue on acs:kms:cn-hangzhou:" + acct + ":secret/ghcr-pull to AccessKey LTAI5tSe… from profile ci"
	if secrets.KindOf(err) != secrets.NoPermission || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}

	// A secret under a customer key, read by someone without kms:Decrypt on it.
	if err := w.fc.AddUser(fakecloud.User{AccountID: acct, Name: "nodecrypt", AccessKeyID: "LTAI5tSecretsNoDec03", AccessKeySecret: "sk3", Deny: []string{"kms:Decrypt"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.fc.AddSecret(fakecloud.Secret{AccountID: acct, Region: "cn-hangzhou", Name: "cmk", EncryptionKeyID: "key-1",
		Versions: []fakecloud.SecretVersion{{VersionID: "1", Data: login("u", ghcrPW)}}}); err != nil {
		t.Fatal(err)
	}
	c = w.client(t, w.hangzhou, "cn-hangzhou", sts.Static(sts.Credentials{AccessKeyID: "LTAI5tSecretsNoDec03", AccessKeySecret: "sk3", Source: "profile dec"}))
	_, err = c.Login(context.Background(), ref(t, "cmk", "cn-hangzhou"), "")
	if secrets.KindOf(err) != secrets.NoPermission || !strings.Contains(err.Error(), "allow kms:Decrypt on that key") ||
		!strings.Contains(err.Error(), "key/key-1") {
		t.Fatalf("got %v", err)
	}
}

func TestLoginTransientAndOtherFailures(t *testing.T) {
	w := newWorld(t)
	c := w.client(t, w.hangzhou, "cn-hangzhou", w.user())
	r := ref(t, "ghcr-pull", "cn-hangzhou")

	w.fc.Inject("GetSecretValue", fakecloud.Fault{Kind: fakecloud.FaultKindStatus, Status: 503})
	if l, err := c.Login(context.Background(), r, ""); err != nil || l.Password != ghcrPW {
		t.Fatalf("a 503 was not retried: %v", err)
	}
	if n := w.fc.Count("GetSecretValue"); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}

	bad := w.client(t, w.hangzhou, "cn-hangzhou", sts.Static(sts.Credentials{AccessKeyID: userAK, AccessKeySecret: "wrong", Source: "test"}))
	_, err := bad.Login(context.Background(), r, "")
	var ae *cloudapi.Error
	if !errors.As(err, &ae) || ae.Code != "SignatureDoesNotMatch" || secrets.KindOf(err) != 0 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "reading Alibaba Cloud KMS secret ghcr-pull (cn-hangzhou)") {
		t.Errorf("error %q does not name the secret", err)
	}

	unknown := w.client(t, w.hangzhou, "cn-hangzhou", sts.Static(sts.Credentials{AccessKeyID: "LTAI5tNobody00000099", AccessKeySecret: "x", Source: "test"}))
	_, err = unknown.Login(context.Background(), r, "")
	if !errors.As(err, &ae) || ae.Code != "InvalidAccessKeyId.NotFound" || secrets.KindOf(err) != 0 {
		t.Fatalf("an unknown AccessKey (HTTP 404) must not read as a missing secret: %v", err)
	}
	w.fc.Inject("GetSecretValue", fakecloud.Fault{Kind: fakecloud.FaultKindAPIError, Status: 403, Code: "Forbidden.InDebt", Message: "Your account has an overdue payment."})
	if _, err := c.Login(context.Background(), r, ""); !errors.As(err, &ae) || ae.Code != "Forbidden.InDebt" || secrets.KindOf(err) != 0 {
		t.Fatalf("an account in debt (HTTP 403) must not read as a missing permission: %v", err)
	}

	failing := w.client(t, w.hangzhou, "cn-hangzhou", sts.ProviderFunc(func(context.Context) (sts.Credentials, error) {
		return sts.Credentials{}, sts.ErrNoCredentials
	}))
	if _, err := failing.Login(context.Background(), r, ""); !errors.Is(err, sts.ErrNoCredentials) {
		t.Fatalf("credential failure: %v", err)
	}

	w.fc.Inject("GetSecretValue", fakecloud.Fault{Kind: fakecloud.FaultKindMissing, Fields: []string{"SecretData"}})
	if _, err := c.Login(context.Background(), r, ""); err == nil || !strings.Contains(err.Error(), "has no SecretData") {
		t.Fatalf("missing SecretData: %v", err)
	}

	if _, err := c.Login(context.Background(), r, "bad stage"); err == nil || !strings.Contains(err.Error(), "versionStage") {
		t.Fatalf("bad stage: %v", err)
	}
	if _, err := c.Login(context.Background(), secrets.Ref{}, ""); err == nil {
		t.Fatal("zero Ref accepted")
	}
}

func TestLoginDeadline(t *testing.T) {
	w := newWorld(t)
	w.fc.InjectPersistent("GetSecretValue", fakecloud.Fault{Kind: fakecloud.FaultKindHang})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := w.client(t, w.hangzhou, "cn-hangzhou", w.user()).Login(ctx, ref(t, "ghcr-pull", "cn-hangzhou"), "")
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("got %v", err)
	}
}

// TestSameRequestAsTheSDK compares the wire request with the one kms-20160120's own
// GetSecretValue sends.
func TestSameRequestAsTheSDK(t *testing.T) {
	w := newWorld(t)
	sdk, err := kmssdk.NewClient(&openapi.Config{
		Endpoint: tea.String(strings.TrimPrefix(w.hangzhou, "http://")), Protocol: tea.String("http"),
		AccessKeyId: tea.String(userAK), AccessKeySecret: tea.String(userSK),
		ConnectTimeout: tea.Int(2000), ReadTimeout: tea.Int(5000),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.GetSecretValue(&kmssdk.GetSecretValueRequest{SecretName: tea.String("ghcr-pull"), VersionStage: tea.String("ACSCurrent")}); err != nil {
		t.Fatal(err)
	}
	want := lastCall(t, w.fc)
	if _, err := w.client(t, w.hangzhou, "cn-hangzhou", w.user()).Login(context.Background(), ref(t, "ghcr-pull", "cn-hangzhou"), ""); err != nil {
		t.Fatal(err)
	}
	got := lastCall(t, w.fc)
	keys := func(m map[string]string) string {
		var k []string
		for x, v := range m {
			k = append(k, x+"="+v)
		}
		sort.Strings(k)
		return strings.Join(k, "&")
	}
	if got.Method != want.Method || got.Path != want.Path || got.Style != want.Style || got.Version != want.Version ||
		got.Action != want.Action || keys(got.Params) != keys(want.Params) {
		t.Fatalf("helper sent %+v, the SDK sends %+v", got, want)
	}
}

func lastCall(t *testing.T, fc *fakecloud.Server) fakecloud.Call {
	t.Helper()
	calls := fc.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Action == "GetSecretValue" {
			return calls[i]
		}
	}
	t.Fatal("no GetSecretValue call")
	return fakecloud.Call{}
}

func TestEndpoint(t *testing.T) {
	for _, tt := range []struct {
		override, region string
		vpc              bool
		want             string
	}{
		{"", "cn-hangzhou", false, "https://kms.cn-hangzhou.aliyuncs.com"},
		{"", "cn-shanghai", true, "https://kms-vpc.cn-shanghai.aliyuncs.com"},
		{"kms.{region}.example.com", "ap-southeast-1", false, "https://kms.ap-southeast-1.example.com"},
		{"http://127.0.0.1:9999", "cn-hangzhou", false, "http://127.0.0.1:9999"},
		{"http://" + "kms.cn-hangzhou.aliyuncs.com", "cn-hangzhou", false, "error"},
		{"", "", false, "error"},
	} {
		e, err := kms.Endpoint(tt.override, tt.region, tt.vpc)
		got := e.String()
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("Endpoint(%q, %q, %v) = %s (%v), want %s", tt.override, tt.region, tt.vpc, got, err, tt.want)
		}
	}
}
