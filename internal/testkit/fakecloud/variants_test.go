package fakecloud_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// Every challenge variant of the package doc's table, exactly as served, by Host.
func TestChallengeVariants(t *testing.T) {
	cleanEnv(t)
	const ent = "china:cri-team000000000001"
	tests := []struct {
		host string
		spec fakecloud.ChallengeSpec
		want string
	}{
		{"team-registry.cn-beijing.cr.aliyuncs.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmClassic, Region: "cn-beijing", Suffix: ent},
			`Bearer realm="https://dockerauth.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:cri-team000000000001"`},
		{"team-registry-vpc.cn-beijing.cr.aliyuncs.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmClassicVPC, Region: "cn-beijing", Suffix: ent},
			`Bearer realm="https://dockerauth-vpc.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:cri-team000000000001"`},
		{"ee.example.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmEE, Region: "cn-beijing", Suffix: ent},
			`Bearer realm="https://dockerauth-ee.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:cri-team000000000001"`},
		{"ee-vpc.example.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmEEVPC, Region: "cn-beijing", Suffix: ent},
			`Bearer realm="https://dockerauth-ee-vpc.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:cri-team000000000001"`},
		{"zjk-registry.cn-zhangjiakou.cr.aliyuncs.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmHyphen, Region: "cn-zhangjiakou", Suffix: "china:cri-zjk0000000000001"},
			`Bearer realm="https://dockerauth-cn-zhangjiakou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-zhangjiakou:china:cri-zjk0000000000001"`},
		{"registry.cn-shanghai.aliyuncs.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmRegionless, Region: "cn-shanghai", Suffix: "26888"},
			`Bearer realm="https://dockerauth.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:26888"`},
		{"mismatch.example.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmClassic, Region: "cn-shanghai", RealmRegion: "cn-hangzhou", Suffix: "china:cri-cross00000000003"},
			`Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:cri-cross00000000003"`},
		{"extra.example.com", fakecloud.ChallengeSpec{Realm: fakecloud.RealmEE, Region: "cn-beijing", Suffix: ent, ExtraParts: []string{"public", "v2"}},
			`Bearer realm="https://dockerauth-ee.cn-beijing.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:cri-team000000000001:public:v2"`},
		{"crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com", fakecloud.PersonalChallenge("cn-hangzhou"),
			`Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`},
		{"registry.aliyuncs.com", fakecloud.RegionlessRegistryChallenge(),
			`Bearer realm="https://dockerauth.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`},
	}
	cs := fakecloud.Challenges{}
	seen := map[fakecloud.RealmFamily]bool{}
	for _, tc := range tests {
		cs[tc.host] = tc.spec
		if tc.spec.Header() != tc.want {
			t.Errorf("%s: Header() = %s\nwant           %s", tc.host, tc.spec.Header(), tc.want)
		}
		seen[tc.spec.Realm] = true
	}
	for _, f := range fakecloud.RealmFamilies {
		if !seen[f] {
			t.Errorf("realm family %s has no row", f)
		}
	}
	srv := httptest.NewServer(cs.Handler())
	defer srv.Close()
	get := func(host, path string) *http.Response {
		req, err := http.NewRequest("GET", srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for _, tc := range tests {
		resp := get(strings.ToUpper(tc.host)+":443", "/v2/")
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != tc.want || resp.Header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
			t.Errorf("%s: %d %q", tc.host, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if resp := get(tc.host, "/other"); resp.StatusCode != 404 {
			t.Errorf("%s /other: %d", tc.host, resp.StatusCode)
		}
	}
	if resp := get("unknown.example.com", "/v2/"); resp.StatusCode != 404 || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("unknown host: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// A scenario refuses an unknown family.
	fc := fakecloud.New()
	if err := fc.Apply(&fakecloud.Scenario{Challenges: fakecloud.Challenges{"x.example.com": {Realm: "dockerauth-evil", Region: "cn-hangzhou", Suffix: "26842"}}}); err == nil {
		t.Error("unknown realm family accepted")
	}
}

// rpcBody calls an RPC action through the SDK's generic CallApi and returns the decoded body, so
// that the test sees the JSON types on the wire, not a typed model's.
func rpcBody(t *testing.T, cl *cr.Client, action string, query map[string]*string) map[string]any {
	t.Helper()
	params := &openapi.Params{
		Action: tea.String(action), Version: tea.String("2018-12-01"), Protocol: tea.String("HTTPS"),
		Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"), Style: tea.String("RPC"),
		ReqBodyType: tea.String("formData"), BodyType: tea.String("json"),
	}
	res, err := cl.CallApi(params, &openapi.OpenApiRequest{Query: query}, &dara.RuntimeOptions{})
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	body, _ := res["body"].(map[string]any)
	return body
}

func typeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number, float64, int, int64, int32, uint64:
		return "number"
	case nil:
		return "missing"
	}
	return fmt.Sprintf("%T", v)
}

// Every wire variant: the JSON type of each affected field, by default and with the variant.
func TestWireVariants(t *testing.T) {
	tests := []struct {
		variant fakecloud.WireVariant // "" for the default
		// want: field → JSON type
		listCreate, getCreate, total, expire, expireDate string
	}{
		{"", "string", "number", "number", "number", "number"},
		{fakecloud.WireCreateTimeSwapped, "number", "string", "number", "number", "number"},
		{fakecloud.WireTotalCountString, "string", "number", "string", "number", "number"},
		{fakecloud.WireExpiryString, "string", "number", "number", "string", "string"},
	}
	for _, tc := range tests {
		name := string(tc.variant)
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			fc := newWorld(t)
			if tc.variant != "" {
				if err := fc.SetWireVariants(tc.variant); err != nil {
					t.Fatal(err)
				}
			}
			cl := crClient(t, config(fc, userAK, userSK, ""))
			list := rpcBody(t, cl, "ListInstance", map[string]*string{"InstanceName": tea.String("corp")})
			insts, _ := list["Instances"].([]any)
			if len(insts) != 1 {
				t.Fatalf("ListInstance %v", list)
			}
			got := insts[0].(map[string]any)
			get := rpcBody(t, cl, "GetInstance", map[string]*string{"InstanceId": tea.String(instID)})
			tok := rpcBody(t, cl, "GetAuthorizationToken", map[string]*string{"InstanceId": tea.String(instID)})
			personal, err := personalToken(cl)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := personal["data"].(map[string]any)
			for _, c := range []struct{ field, got, want string }{
				{"ListInstance CreateTime", typeOf(got["CreateTime"]), tc.listCreate},
				{"ListInstance ModifiedTime", typeOf(got["ModifiedTime"]), tc.listCreate},
				{"GetInstance CreateTime", typeOf(get["CreateTime"]), tc.getCreate},
				{"ListInstance TotalCount", typeOf(list["TotalCount"]), tc.total},
				{"GetAuthorizationToken ExpireTime", typeOf(tok["ExpireTime"]), tc.expire},
				{"GET /tokens expireDate", typeOf(data["expireDate"]), tc.expireDate},
			} {
				if c.got != c.want {
					t.Errorf("%s is a %s, want a %s", c.field, c.got, c.want)
				}
			}
			// The SDK's own typed models decode every variant (tea's tolerant decoder), and a
			// numeric string carries the same milliseconds as a number would.
			l, err := cl.ListInstance(&cr.ListInstanceRequest{InstanceName: tea.String("corp")})
			if err != nil || tea.Int32Value(l.Body.TotalCount) != 1 {
				t.Errorf("typed ListInstance: %v %v", l, err)
			}
			if _, err := cl.GetInstance(&cr.GetInstanceRequest{InstanceId: tea.String(instID)}); err != nil {
				t.Errorf("typed GetInstance: %v", err)
			}
			et, err := enterpriseToken(cl, instID)
			if err != nil {
				t.Fatalf("typed GetAuthorizationToken: %v", err)
			}
			toks := fc.IssuedTokens() // raw enterprise, personal, typed enterprise
			if want := toks[len(toks)-1].ExpiresAt.UnixMilli(); tea.Int64Value(et.Body.ExpireTime) != want || fmt.Sprint(data["expireDate"]) != fmt.Sprint(toks[len(toks)-2].ExpiresAt.UnixMilli()) {
				t.Errorf("expiry: typed %d, want %d; expireDate %v", tea.Int64Value(et.Body.ExpireTime), want, data["expireDate"])
			}
		})
	}
	if err := fakecloud.New().SetWireVariants("bogus"); err == nil {
		t.Error("unknown wire variant accepted")
	}
}

// The fake answers whatever host it is reached by and records that Host with the signing key,
// so a test can pin the endpoint the SDK chose: the sts-20150401 endpoint map sends ap-south-1,
// ap-southeast-2, cn-wuhan and cn-fujian to the global sts.aliyuncs.com, other regions to
// sts.<region>.aliyuncs.com.
func TestSTSEndpointByRegionIsRecorded(t *testing.T) {
	fc := newWorld(t)
	for _, tc := range []struct{ region, host string }{
		{"ap-south-1", "sts.aliyuncs.com"},
		{"ap-southeast-2", "sts.aliyuncs.com"},
		{"cn-wuhan", "sts.aliyuncs.com"},
		{"cn-fujian", "sts.aliyuncs.com"},
		{"cn-hangzhou", "sts.cn-hangzhou.aliyuncs.com"},
		{"cn-beijing", "sts.cn-beijing.aliyuncs.com"},
	} {
		c := config(fc, userAK, userSK, "")
		c.Endpoint, c.RegionId = nil, tea.String(tc.region)
		c.HttpClient = loopbackClient{addr: fc.Endpoint()}
		cl := stsClient(t, c)
		res, err := cl.AssumeRole(&sts.AssumeRoleRequest{RoleArn: tea.String(pullerARN), RoleSessionName: tea.String("endpoint-" + tc.region)})
		if err != nil {
			t.Fatalf("%s: %v", tc.region, err)
		}
		call := lastCall(t, fc, "AssumeRole")
		if call.Host != tc.host || call.AccessKeyID != userAK || call.Status != 200 ||
			call.Params["RoleArn"] != pullerARN || !strings.HasPrefix(tea.StringValue(res.Body.Credentials.AccessKeyId), "STS.") {
			t.Errorf("%s: call %+v", tc.region, call)
		}
	}
	// The same for cr: the Host names the endpoint, the key names who signed.
	c := config(fc, userAK, userSK, "")
	c.Endpoint = tea.String("cr.cn-hangzhou.aliyuncs.com")
	c.HttpClient = loopbackClient{addr: fc.Endpoint()}
	if _, err := personalToken(crClient(t, c)); err != nil {
		t.Fatal(err)
	}
	if call := lastCall(t, fc, fakecloud.ActionPersonalToken); call.Host != "cr.cn-hangzhou.aliyuncs.com" || call.AccessKeyID != userAK || call.Action != "GetAuthorizationToken" {
		t.Errorf("cr call %+v", call)
	}
}

// credentials-go also takes the OIDC token itself from ALIBABA_CLOUD_OIDC_TOKEN (no file). The
// fake needs no mode for it: AssumeRoleWithOIDC is the same call; this pins that it arrives.
func TestCredentialsGoOIDCTokenFromEnv(t *testing.T) {
	fc := newWorld(t)
	if err := fc.StartTLS(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, fc.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCredentialsGoOIDCEnv$", "-test.v")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "SSL_CERT_FILE=" + caFile,
		"FAKECLOUD_HELPER=1", "FAKECLOUD_STS=" + fc.TLSEndpoint(),
		"ALIBABA_CLOUD_OIDC_TOKEN=" + oidcToken,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	oidc := lastCall(t, fc, "AssumeRoleWithOIDC")
	if oidc.Status != 200 || oidc.Style != "Anonymous" || oidc.Params["OIDCToken"] != oidcToken || oidc.Params["RoleArn"] != rrsaARN {
		t.Fatalf("oidc call %+v\n%s", oidc, out)
	}
	if !strings.Contains(string(out), "OIDC-ENV STS.") {
		t.Fatalf("helper output:\n%s", out)
	}
}

func TestHelperCredentialsGoOIDCEnv(t *testing.T) {
	if os.Getenv("FAKECLOUD_HELPER") != "1" || os.Getenv("ALIBABA_CLOUD_OIDC_TOKEN") == "" {
		t.Skip("helper process for TestCredentialsGoOIDCTokenFromEnv")
	}
	p, err := providers.NewOIDCCredentialsProviderBuilder().
		WithOIDCProviderARN(providerARN).WithRoleArn(rrsaARN).
		WithRoleSessionName("pod").WithSTSEndpoint(os.Getenv("FAKECLOUD_STS")).Build()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := p.GetCredentials()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("OIDC-ENV", cc.AccessKeyId)
}
