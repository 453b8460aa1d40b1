package fakecloud_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	cr "github.com/alibabacloud-go/cr-20181201/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// Each case alters the request the real SDK signed, on the wire, and expects the fake to notice.
func TestTamperedRequests(t *testing.T) {
	fc := newWorld(t)
	tests := []struct {
		name   string
		hook   func(*http.Request)
		code   string
		status int
	}{
		{"query value changed", func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, instID, instID2, 1)
		}, "SignatureDoesNotMatch", 400},
		{"query parameter added", func(r *http.Request) {
			r.URL.RawQuery += "&Extra=1"
		}, "SignatureDoesNotMatch", 400},
		{"query parameter repeated", func(r *http.Request) {
			r.URL.RawQuery += "&InstanceId=" + instID
		}, "SignatureDoesNotMatch", 400},
		{"signed header changed", func(r *http.Request) {
			r.Header["x-acs-action"] = []string{"ListInstance"}
		}, "SignatureDoesNotMatch", 400},
		{"host changed", func(r *http.Request) {
			r.Host = "cr.cn-hangzhou.aliyuncs.com"
		}, "SignatureDoesNotMatch", 400},
		{"body added", func(r *http.Request) {
			b := []byte("InstanceId=" + instID2)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}, "SignatureDoesNotMatch", 400},
		{"signature flipped", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			r.Header["Authorization"] = []string{a[:len(a)-1] + string(flip)}
		}, "SignatureDoesNotMatch", 400},
		{"unsigned x-acs header added", func(r *http.Request) {
			r.Header["x-acs-extra"] = []string{"1"}
		}, "IncompleteSignature", 400},
		{"nonce removed", func(r *http.Request) {
			delete(r.Header, "x-acs-signature-nonce")
		}, "MissingSignatureNonce", 400},
		{"date not a date", func(r *http.Request) {
			r.Header["x-acs-date"] = []string{"yesterday"}
		}, "InvalidTimeStamp.Format", 400},
		{"authorization garbled", func(r *http.Request) {
			r.Header["Authorization"] = []string{"Bearer abc"}
		}, "IncompleteSignature", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config(fc, userAK, userSK, "")
			c.HttpClient = hookClient{hook: tc.hook}
			_, err := enterpriseToken(crClient(t, c), instID)
			sdkError(t, err, tc.code, tc.status)
		})
	}
	if n := len(fc.IssuedTokens()); n != 0 {
		t.Fatalf("%d tokens issued to tampered requests", n)
	}
}

// A request replayed byte for byte is refused: its nonce was used.
func TestNonceReplay(t *testing.T) {
	fc := newWorld(t)
	var mu sync.Mutex
	var captured *http.Request
	c := config(fc, userAK, userSK, "")
	c.HttpClient = hookClient{hook: func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		captured = r.Clone(r.Context())
	}}
	if _, err := enterpriseToken(crClient(t, c), instID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	replay := captured
	mu.Unlock()
	replay.Body = http.NoBody
	replay.RequestURI = ""
	resp, err := http.DefaultTransport.RoundTrip(replay)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != 400 || body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %v", resp.StatusCode, body)
	}
}

// signWithSDK builds a request the way darabonba does and signs it with the SDK's own
// GetAuthorization, with a chosen x-acs-date.
func signWithSDK(t *testing.T, endpoint, ak, sk string, date time.Time) *http.Request {
	t.Helper()
	req := dara.NewRequest()
	req.Method = tea.String("POST")
	req.Pathname = tea.String("/")
	req.Query = map[string]*string{"InstanceId": tea.String(instID)}
	empty := openapiutil.Hash([]byte(""), tea.String("ACS3-HMAC-SHA256"))
	req.Headers = map[string]*string{
		"host":                  tea.String(endpoint),
		"x-acs-action":          tea.String("GetAuthorizationToken"),
		"x-acs-version":         tea.String("2018-12-01"),
		"x-acs-date":            tea.String(date.UTC().Format("2006-01-02T15:04:05Z")),
		"x-acs-signature-nonce": openapiutil.GetNonce(),
		"x-acs-content-sha256":  tea.String(hex.EncodeToString(empty)),
	}
	auth := openapiutil.GetAuthorization(req, tea.String("ACS3-HMAC-SHA256"), req.Headers["x-acs-content-sha256"], tea.String(ak), tea.String(sk))
	hr, err := http.NewRequest("POST", "http://"+endpoint+"/?InstanceId="+instID, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range req.Headers {
		if k != "host" {
			hr.Header[k] = []string{*v}
		}
	}
	hr.Header["Authorization"] = []string{*auth}
	return hr
}

func TestRequestDate(t *testing.T) {
	fc := newWorld(t)
	tests := []struct {
		name   string
		offset time.Duration
		status int
		code   string
	}{
		{"now", 0, 200, ""},
		{"five minutes skew", -5 * time.Minute, 200, ""},
		{"an hour old", -time.Hour, 400, "InvalidTimeStamp.Expired"},
		{"an hour ahead", time.Hour, 400, "InvalidTimeStamp.Expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signWithSDK(t, fc.Endpoint(), userAK, userSK, time.Now().Add(tc.offset)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.status || (tc.code != "" && body["Code"] != tc.code) {
				t.Fatalf("got %d %v", resp.StatusCode, body)
			}
		})
	}
}

// The legacy RPC signature (HMAC-SHA1 in the query), produced by the SDK itself when
// SignatureAlgorithm is "v2" (DoRPCRequest), is verified too.
func TestLegacyRPCSignature(t *testing.T) {
	fc := newWorld(t)
	c := config(fc, userAK, userSK, "")
	c.SignatureAlgorithm = tea.String("v2")
	res, err := crClient(t, c).GetAuthorizationToken(&cr.GetAuthorizationTokenRequest{InstanceId: tea.String(instID)})
	if err != nil {
		t.Fatal(err)
	}
	if tea.StringValue(res.Body.AuthorizationToken) == "" {
		t.Fatalf("body %s", res.Body)
	}
	call := lastCall(t, fc, "GetAuthorizationToken")
	if call.Style != "RPC-HMAC-SHA1" || call.AccessKeyID != userAK {
		t.Fatalf("call %+v", call)
	}
	bad := config(fc, userAK, "wrong", "")
	bad.SignatureAlgorithm = tea.String("v2")
	_, err = crClient(t, bad).GetAuthorizationToken(&cr.GetAuthorizationTokenRequest{InstanceId: tea.String(instID)})
	sdkError(t, err, "SignatureDoesNotMatch", 400)
}
