package crapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"

	"github.com/docker-credential-acr/docker-credential-acr/internal/cloudapi"
	"github.com/docker-credential-acr/docker-credential-acr/sts"
)

// asSDKReadsIt parses a body as darabonba does (dara.ReadAsJSON: UseNumber).
func asSDKReadsIt(t *testing.T, body string) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad test body %s: %v", body, err)
	}
	return m
}

const expMs = 1700000000123

// The fields read accept both forms; fields not read never fail the call, whatever their type
// or shape; a read field of the wrong shape does.
func TestDecodeGetAuthorizationToken(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		wantErr    bool
	}{
		{"as the model says", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":1700000000123,"IsSuccess":true,"Code":"success","RequestId":"r"}`, false},
		{"ExpireTime as a numeric string", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":"1700000000123","IsSuccess":true}`, false},
		{"IsSuccess as a string", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":1700000000123,"IsSuccess":"true"}`, false},
		{"Code as a number", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":1700000000123,"IsSuccess":true,"Code":200}`, false},
		{"unread fields of any type and shape", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":1700000000123,"IsSuccess":true,"Extra":{"a":[1,{"b":null}]},"Data":[1,"x"],"HttpStatusCode":"x"}`, false},
		{"ExpireTime an object", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":{"ms":1},"IsSuccess":true}`, true},
		{"ExpireTime not a number", `{"AuthorizationToken":"tok","TempUsername":"cr_temp_user","ExpireTime":"soon","IsSuccess":true}`, true},
		{"AuthorizationToken a list", `{"AuthorizationToken":["tok"],"TempUsername":"cr_temp_user","ExpireTime":1700000000123,"IsSuccess":true}`, true},
	} {
		var resp cr.GetAuthorizationTokenResponseBody
		err := cloudapi.Decode(asSDKReadsIt(t, tt.body), enterpriseTokenRead, &resp)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: decoded %+v, want an error", tt.name, resp)
			}
			continue
		}
		if err != nil || *resp.AuthorizationToken != "tok" || *resp.TempUsername != "cr_temp_user" || *resp.ExpireTime != expMs || !*resp.IsSuccess {
			t.Errorf("%s: %+v, %v", tt.name, resp, err)
		}
	}
}

func TestDecodePersonalToken(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		wantErr    bool
	}{
		{"number", `{"data":{"authorizationToken":"tok","tempUserName":"cr_temp_user","expireDate":1700000000123},"requestId":"r"}`, false},
		{"numeric string", `{"data":{"authorizationToken":"tok","tempUserName":"cr_temp_user","expireDate":"1700000000123"},"requestId":"r"}`, false},
		{"unread fields mistyped", `{"data":{"authorizationToken":"tok","tempUserName":"cr_temp_user","expireDate":1700000000123,"extra":{"x":1}},"requestId":7,"code":["x"]}`, false},
		{"data a string", `{"data":"tok"}`, true},
		{"expireDate a bool list", `{"data":{"authorizationToken":"tok","tempUserName":"cr_temp_user","expireDate":[true]}}`, true},
	} {
		var resp personalTokenBody
		err := cloudapi.Decode(asSDKReadsIt(t, tt.body), personalTokenRead, &resp)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: decoded %+v, want an error", tt.name, resp)
			}
			continue
		}
		if err != nil || resp.Data == nil || *resp.Data.AuthorizationToken != "tok" || *resp.Data.TempUserName != "cr_temp_user" || *resp.Data.ExpireDate != expMs {
			t.Errorf("%s: %+v, %v", tt.name, resp.Data, err)
		}
	}
}

// The SDK's own models disagree on types (ListInstance CreateTime string, GetInstance's a number;
// TotalCount int or string): neither form may fail the call.
func TestDecodeListInstance(t *testing.T) {
	for _, body := range []string{
		`{"Instances":[{"InstanceId":"cri-aaaaaaaaaaaaaaaa","InstanceName":"team","RegionId":"cn-beijing","CreateTime":"2024-01-02T03:04:05Z"}],"TotalCount":1,"IsSuccess":true,"PageNo":1,"PageSize":50}`,
		`{"Instances":[{"InstanceId":"cri-aaaaaaaaaaaaaaaa","InstanceName":"team","RegionId":"cn-beijing","CreateTime":1700000000000,"ModifiedTime":{"odd":true}}],"TotalCount":"1","IsSuccess":"true","PageNo":"1","PageSize":{"x":1}}`,
	} {
		var resp cr.ListInstanceResponseBody
		if err := cloudapi.Decode(asSDKReadsIt(t, body), listInstanceRead, &resp); err != nil || len(resp.Instances) != 1 || *resp.Instances[0].InstanceId != "cri-aaaaaaaaaaaaaaaa" || *resp.TotalCount != 1 {
			t.Errorf("%s: %+v, %v", body, resp, err)
		}
	}
	var resp cr.ListInstanceResponseBody
	if err := cloudapi.Decode(asSDKReadsIt(t, `{"Instances":{"InstanceId":"x"},"IsSuccess":true}`), listInstanceRead, &resp); err == nil {
		t.Errorf("Instances as an object decoded: %+v", resp)
	}
}

func TestDecodeListInstanceEndpoint(t *testing.T) {
	body := `{"Endpoints":[{"EndpointType":"internet","Enable":"true","Status":1,"Domains":[{"Domain":"Team-Registry.cn-beijing.cr.aliyuncs.com","Type":{"x":1}},{"Domain":"registry.example.com","Type":"USER"}],"AclEntries":"none"}],"IsSuccess":true,"RequestId":5}`
	var resp cr.ListInstanceEndpointResponseBody
	if err := cloudapi.Decode(asSDKReadsIt(t, body), listInstanceEndpointRead, &resp); err != nil || len(resp.Endpoints) != 1 || len(resp.Endpoints[0].Domains) != 2 || *resp.RequestId != "5" {
		t.Fatalf("%+v, %v", resp, err)
	}
}

// The token calls end to end over loopback, with the SDK's request and its own body parsing.
func TestTokensOverLoopback(t *testing.T) {
	answers := map[string]string{
		"/tokens": `{"data":{"authorizationToken":"ptok","tempUserName":"cr_temp_user","expireDate":"1700000000123","extra":{}},"requestId":"r1"}`,
		"/":       `{"AuthorizationToken":"etok","TempUsername":"cr_temp_user","ExpireTime":"1700000000123","IsSuccess":true,"Code":"success","RequestId":"r2","Unread":[{"a":1}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(answers[r.URL.Path]))
	}))
	defer srv.Close()
	a := &Client{Endpoint: cloudapi.Endpoint{Host: strings.TrimPrefix(srv.URL, "http://"), Scheme: "http"}, Region: "cn-hangzhou",
		Creds: sts.Credentials{AccessKeyID: "LTAI5tTestKey0000001", AccessKeySecret: "secret"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := a.PersonalToken(ctx)
	if err != nil || p.Password != "ptok" || p.Username != "cr_temp_user" || !p.ExpiresAt.Equal(time.UnixMilli(expMs)) {
		t.Errorf("PersonalToken = %+v, %v", p, err)
	}
	e, err := a.EnterpriseToken(ctx, "cri-aaaaaaaaaaaaaaaa")
	if err != nil || e.Password != "etok" || !e.ExpiresAt.Equal(time.UnixMilli(expMs)) {
		t.Errorf("EnterpriseToken = %+v, %v", e, err)
	}
}

func TestMillis(t *testing.T) {
	for _, ms := range []*int64{nil, new(int64), func() *int64 { v := int64(-5); return &v }()} {
		if got, err := millis(ms); err == nil {
			t.Errorf("millis(%v) = %v, want an error", ms, got)
		}
	}
}
