package fakecloud_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func TestPersonalToken(t *testing.T) {
	fc := newWorld(t)
	before := time.Now()
	body, err := personalToken(crClient(t, config(fc, userAK, userSK, "")))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := body["data"].(map[string]any)
	if data == nil || body["requestId"] == nil {
		t.Fatalf("unexpected body %v", body)
	}
	if data["tempUserName"] != "cr_temp_user" {
		t.Errorf("tempUserName = %v", data["tempUserName"])
	}
	tok, _ := data["authorizationToken"].(string)
	exp := expireMillis(t, data["expireDate"])
	if d := time.UnixMilli(exp).Sub(before); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expireDate %d is %v away, want about 1h", exp, d)
	}
	// base64(JSON{...,"time":"<expiry ms>",...}) + ":" + hex signature
	payload, sig, ok := strings.Cut(tok, ":")
	if !ok || len(sig) != 64 {
		t.Fatalf("token %q does not look like an ACR token", tok)
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil || claims["time"] != strconv.FormatInt(exp, 10) {
		t.Fatalf("token payload %s (err %v) does not carry the expiry %d", raw, err, exp)
	}

	issued := fc.IssuedTokens()
	if len(issued) != 1 || issued[0].Token != tok || issued[0].Edition != "personal" || issued[0].AccessKeyID != userAK {
		t.Fatalf("IssuedTokens = %+v", issued)
	}
	c := lastCall(t, fc, fakecloud.ActionPersonalToken)
	if c.AccessKeyID != userAK || c.Host != fc.Endpoint() || c.Style != "ACS3" || c.Status != 200 || c.Method != "GET" || c.Path != "/tokens" {
		t.Fatalf("call = %+v", c)
	}
	if fc.Count(fakecloud.ActionPersonalToken) != 1 || fc.Count(fakecloud.ActionEnterpriseToken) != 0 || fc.Count("GetAuthorizationToken") != 1 {
		t.Fatal("counts are wrong")
	}
}

func expireMillis(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	t.Fatalf("expireDate has type %T", v)
	return 0
}

func TestPersonalTokenErrors(t *testing.T) {
	fc := newWorld(t)
	tests := []struct {
		name, ak, sk string
		code         string
		status       int
	}{
		{"no registry password", noPwdAK, noPwdSK, "USER_NOT_EXIST", 404},
		{"denied", deniedAK, deniedSK, "NoPermission", 403},
		{"wrong secret", userAK, "wrong", "SignatureDoesNotMatch", 400},
		{"unknown key", "LTAI5tNobody", "x", "InvalidAccessKeyId.NotFound", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := personalToken(crClient(t, config(fc, tc.ak, tc.sk, "")))
			se := sdkError(t, err, tc.code, tc.status)
			if tc.code == "NoPermission" && se.AccessDeniedDetail["AuthAction"] != "cr:GetAuthorizationToken" {
				t.Errorf("AccessDeniedDetail = %v", se.AccessDeniedDetail)
			}
		})
	}
	// The root account always has a registry login.
	if _, err := personalToken(crClient(t, config(fc, rootAK, rootSK, ""))); err != nil {
		t.Fatal(err)
	}
}

func TestEnterpriseToken(t *testing.T) {
	fc := newWorld(t)
	cl := crClient(t, config(fc, userAK, userSK, ""))
	res, err := enterpriseToken(cl, instID)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Body
	if tea.Int32Value(res.StatusCode) != 200 || !tea.BoolValue(b.IsSuccess) || tea.StringValue(b.Code) != "success" ||
		tea.StringValue(b.TempUsername) != "cr_temp_user" || tea.StringValue(b.AuthorizationToken) == "" ||
		tea.StringValue(b.RequestId) == "" {
		t.Fatalf("body = %s", b)
	}
	if d := time.Until(time.UnixMilli(tea.Int64Value(b.ExpireTime))); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpireTime is %v away", d)
	}
	issued := fc.IssuedTokens()
	if len(issued) != 1 || issued[0].InstanceID != instID || issued[0].Token != tea.StringValue(b.AuthorizationToken) {
		t.Fatalf("issued = %+v", issued)
	}
	c := lastCall(t, fc, fakecloud.ActionEnterpriseToken)
	if c.Params["InstanceId"] != instID || c.Method != "POST" || c.Path != "/" || c.Principal != "acs:ram::"+acct+":user/dev" {
		t.Fatalf("call = %+v", c)
	}

	// Fixed token and lifetime.
	fc.SetFixedToken(instID, "htpasswd-secret")
	fc.SetTokenLifetime(10 * time.Minute)
	res, err = enterpriseToken(cl, instID)
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(res.Body.AuthorizationToken) != "htpasswd-secret" {
		t.Fatalf("fixed token not used: %s", res.Body)
	}
	if d := time.Until(time.UnixMilli(tea.Int64Value(res.Body.ExpireTime))); d > 10*time.Minute || d < 9*time.Minute {
		t.Errorf("lifetime not applied: %v", d)
	}

	tests := []struct {
		name, ak, sk, id, code string
		status                 int
	}{
		{"unknown instance", userAK, userSK, "cri-doesnotexist0000", "INSTANCE_NOT_EXIST", 404},
		{"other account's instance", otherAK, otherSK, instID, "INSTANCE_NOT_EXIST", 404},
		{"missing instance id", userAK, userSK, "", "MissingInstanceId", 400},
		{"denied", deniedAK, deniedSK, instID, "NoPermission", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &cr.GetAuthorizationTokenRequest{}
			if tc.id != "" {
				req.InstanceId = tea.String(tc.id)
			}
			_, err := crClient(t, config(fc, tc.ak, tc.sk, "")).GetAuthorizationToken(req)
			sdkError(t, err, tc.code, tc.status)
		})
	}
}

func TestListInstance(t *testing.T) {
	fc := newWorld(t)
	for i := 3; i <= 7; i++ {
		if err := fc.AddInstance(fakecloud.Instance{AccountID: acct, ID: "cri-testinstance000" + strconv.Itoa(i),
			Name: "team-" + strconv.Itoa(i), Region: "cn-beijing"}); err != nil {
			t.Fatal(err)
		}
	}
	cl := crClient(t, config(fc, userAK, userSK, ""))
	tests := []struct {
		name       string
		filter     string
		pageNo     int32
		pageSize   int32
		wantNames  []string
		wantTotal  int32
		wantPageNo int32
	}{
		// The world's main account holds team, team-archive, corp, edge and deny; team-3…7 are added above.
		{"exact name also matches fuzzily", "team", 1, 10, []string{"team", "team-archive", "team-3", "team-4", "team-5", "team-6", "team-7"}, 7, 1},
		{"substring", "archive", 1, 10, []string{"team-archive"}, 1, 1},
		{"no filter, first page", "", 1, 3, []string{"team", "team-archive", "corp"}, 10, 1},
		{"no filter, last page", "", 4, 3, []string{"team-7"}, 10, 4},
		{"beyond the end", "team", 5, 3, nil, 7, 5},
		{"no match", "zzz", 1, 10, nil, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &cr.ListInstanceRequest{PageNo: tea.Int32(tc.pageNo), PageSize: tea.Int32(tc.pageSize)}
			if tc.filter != "" {
				req.InstanceName = tea.String(tc.filter)
			}
			res, err := cl.ListInstance(req)
			if err != nil {
				t.Fatal(err)
			}
			b := res.Body
			var names []string
			for _, in := range b.Instances {
				names = append(names, tea.StringValue(in.InstanceName))
				if !strings.HasPrefix(tea.StringValue(in.InstanceId), "cri-") || tea.StringValue(in.RegionId) == "" ||
					tea.StringValue(in.InstanceStatus) != "RUNNING" || tea.StringValue(in.InstanceSpecification) == "" {
					t.Errorf("instance = %s", in)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.wantNames, ",") || tea.Int32Value(b.TotalCount) != tc.wantTotal ||
				tea.Int32Value(b.PageNo) != tc.wantPageNo || tea.Int32Value(b.PageSize) != tc.pageSize || !tea.BoolValue(b.IsSuccess) {
				t.Fatalf("got %v, body %s", names, b)
			}
		})
	}
	// The other account sees none of these, only its own two.
	res, err := crClient(t, config(fc, otherAK, otherSK, "")).ListInstance(&cr.ListInstanceRequest{})
	if err != nil || tea.Int32Value(res.Body.TotalCount) != 2 || len(res.Body.Instances) != 2 ||
		tea.StringValue(res.Body.Instances[0].InstanceName) != "cross" || tea.StringValue(res.Body.Instances[1].InstanceName) != "cross2" {
		t.Fatalf("other account: %v %v", res, err)
	}
	_, err = crClient(t, config(fc, deniedAK, deniedSK, "")).ListInstance(&cr.ListInstanceRequest{})
	sdkError(t, err, "NoPermission", 403)
}

func TestGetInstanceAndEndpoints(t *testing.T) {
	fc := newWorld(t)
	cl := crClient(t, config(fc, userAK, userSK, ""))
	gi, err := cl.GetInstance(&cr.GetInstanceRequest{InstanceId: tea.String(instID)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(gi.Body.InstanceName) != "corp" || tea.StringValue(gi.Body.InstanceId) != instID || !tea.BoolValue(gi.Body.IsSuccess) {
		t.Fatalf("GetInstance = %s", gi.Body)
	}
	res, err := cl.ListInstanceEndpoint(&cr.ListInstanceEndpointRequest{InstanceId: tea.String(instID), ModuleName: tea.String("Registry")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ep := range res.Body.Endpoints {
		if !tea.BoolValue(ep.Enable) || tea.StringValue(ep.Status) != "RUNNING" {
			t.Errorf("endpoint %s", ep)
		}
		for _, d := range ep.Domains {
			got[tea.StringValue(d.Domain)] = tea.StringValue(ep.EndpointType) + "/" + tea.StringValue(d.Type)
		}
	}
	want := map[string]string{
		"corp-registry.cn-hangzhou.cr.aliyuncs.com":     "internet/SYSTEM",
		"corp.example.com":                              "internet/USER",
		"corp-registry-vpc.cn-hangzhou.cr.aliyuncs.com": "vpc/SYSTEM",
	}
	if len(got) != len(want) {
		t.Fatalf("domains = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("domain %s: got %q want %q", k, got[k], v)
		}
	}
	_, err = cl.ListInstanceEndpoint(&cr.ListInstanceEndpointRequest{InstanceId: tea.String("cri-nope000000000000"), ModuleName: tea.String("Registry")})
	sdkError(t, err, "INSTANCE_NOT_EXIST", 404)
	_, err = crClient(t, config(fc, deniedAK, deniedSK, "")).ListInstanceEndpoint(&cr.ListInstanceEndpointRequest{InstanceId: tea.String(instID)})
	sdkError(t, err, "NoPermission", 403)
}

// The Host header of a regional endpoint scopes instances to that region, as the real API is
// regional. The connection still only goes to the fake on loopback.
func TestRegionFromHost(t *testing.T) {
	fc := newWorld(t)
	for _, tc := range []struct {
		host  string
		names string
	}{
		{"cr.cn-shanghai.aliyuncs.com", "edge"},
		{"cr-vpc.cn-hangzhou.aliyuncs.com", "corp,deny"},
		{fc.Endpoint(), "team,team-archive,corp,edge,deny"},
	} {
		c := config(fc, userAK, userSK, "")
		c.Endpoint = tea.String(tc.host)
		c.HttpClient = loopbackClient{addr: fc.Endpoint()}
		res, err := crClient(t, c).ListInstance(&cr.ListInstanceRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, in := range res.Body.Instances {
			names = append(names, tea.StringValue(in.InstanceName))
		}
		if strings.Join(names, ",") != tc.names {
			t.Errorf("host %s: got %v", tc.host, names)
		}
		if c := lastCall(t, fc, "ListInstance"); c.Host != tc.host {
			t.Errorf("recorded host %q", c.Host)
		}
	}
}

// loopbackClient sends every request to addr whatever the URL's host, keeping the Host header.
type loopbackClient struct{ addr string }

func (l loopbackClient) Call(req *http.Request, tr *http.Transport) (*http.Response, error) {
	tr = tr.Clone()
	tr.Proxy = nil
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, l.addr)
	}
	return (&http.Client{Transport: tr}).Do(req)
}
