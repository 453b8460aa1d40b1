package cloudapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

func TestResolveEndpoint(t *testing.T) {
	tests := []struct {
		override, product, region string
		vpc                       bool
		want                      string // "scheme host", or "error"
	}{
		{"", "cr", "cn-hangzhou", false, "https cr.cn-hangzhou.aliyuncs.com"},
		{"", "cr", "cn-hangzhou", true, "https cr-vpc.cn-hangzhou.aliyuncs.com"},
		{"", "sts", "ap-southeast-1", true, "https sts-vpc.ap-southeast-1.aliyuncs.com"},
		{"", "cr", "", false, "error"},
		{"cr.{region}.example.com", "cr", "cn-beijing", false, "https cr.cn-beijing.example.com"},
		{"https://CR.Example.com:8443/", "cr", "", false, "https cr.example.com:8443"},
		{"http://127.0.0.1:8080", "cr", "", false, "http 127.0.0.1:8080"},
		{"http://localhost:8080", "sts", "", false, "http localhost:8080"},
		{"http://[::1]:8080", "sts", "", false, "http [::1]:8080"},
		{"http://" + "cr.cn-hangzhou.aliyuncs.com", "cr", "", false, "error"}, // plain http off loopback (never contacted: a pure function)
		{"http://10.0.0.1:80", "cr", "", false, "error"},
		{"cr.example.com/path", "cr", "", false, "error"},
		{"user@cr.example.com", "cr", "", false, "error"},
		{"cr.{region}.example.com", "cr", "", false, "error"},
		{"ftp://cr.example.com", "cr", "", false, "error"},
		// A region is a region, whatever its source (environment, config, API answer, challenge):
		// never a way to build another host name.
		{"", "sts", "evil.example.test:443/#", false, "error"},
		{"", "cr", "evil.example.test", false, "error"},
		{"", "cr", "cn-hangzhou.evil", false, "error"},
		{"", "cr", "CN-HANGZHOU", false, "error"},
		{"cr.{region}.example.com", "cr", "x/../y", false, "error"},
		{"http://127.0.0.1:8080", "cr", "evil.example.test:443/#", false, "error"},
		{"", "cr", "cn-shanghai-finance-1", false, "https cr.cn-shanghai-finance-1.aliyuncs.com"},
	}
	for _, tt := range tests {
		e, err := ResolveEndpoint(tt.override, tt.product, tt.region, tt.vpc)
		got := e.Scheme + " " + e.Host
		if err != nil {
			got = "error"
		}
		if got != tt.want {
			t.Errorf("ResolveEndpoint(%q, %q, %q, %v) = %q (%v), want %q", tt.override, tt.product, tt.region, tt.vpc, got, err, tt.want)
		}
	}
}

func TestScrub(t *testing.T) {
	secrets := []string{"tok-SECRET-1", "sec-SECRET-2", "sig-SECRET-3"}
	in := []string{
		`Post "https://sts.aliyuncs.com/?SecurityToken=tok-SECRET-1&Action=AssumeRole": dial tcp: timeout`,
		`{"AccessKeySecret":"sec-SECRET-2"}`,
		`Authorization: ACS3-HMAC-SHA256 Credential=LTAI,SignedHeaders=host,Signature=sig-SECRET-3`,
		`x-acs-security-token: tok-SECRET-1`,
		`authorizationToken="tok-SECRET-1"`,
	}
	for _, s := range in {
		out := Scrub(s)
		for _, sec := range secrets {
			if strings.Contains(out, sec) {
				t.Errorf("Scrub(%q) = %q still holds %q", s, out, sec)
			}
		}
	}
	if got := Scrub("cr GetAuthorizationToken failed: NoPermission"); got != "cr GetAuthorizationToken failed: NoPermission" {
		t.Errorf("Scrub changed harmless text: %q", got)
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Service: "cr", Action: "GetAuthorizationToken", StatusCode: 403, Code: "NoPermission", Message: "You are not authorized", RequestID: "R1"}
	want := "cr GetAuthorizationToken failed: NoPermission (HTTP 403): You are not authorized [RequestId R1]"
	if e.Error() != want {
		t.Errorf("got %q", e.Error())
	}
	for _, tt := range []struct {
		e    Error
		want bool
	}{
		{Error{StatusCode: 503}, true},
		{Error{StatusCode: 400, Code: "Throttling.User"}, true},
		{Error{StatusCode: 429, Code: "Rejected.Throttling"}, true},
		{Error{StatusCode: 429}, true},
		{Error{StatusCode: 404, Code: "Forbidden.ResourceNotFound"}, false},
		{Error{StatusCode: 403, Code: "NoPermission"}, false},
		{Error{StatusCode: 404, Code: "USER_NOT_EXIST"}, false},
	} {
		if tt.e.Transient() != tt.want {
			t.Errorf("%+v Transient = %v", tt.e, !tt.want)
		}
	}
}

func TestTrimSDKMessage(t *testing.T) {
	if got := trimSDKMessage("code: 404, user not exist request id: ABC"); got != "user not exist" {
		t.Errorf("got %q", got)
	}
}

// flaky is a Caller whose first failures are transient server errors.
type flaky struct {
	fails, calls int
}

func (f *flaky) CallApiWithCtx(context.Context, *openapi.Params, *openapi.OpenApiRequest, *dara.RuntimeOptions) (map[string]interface{}, error) {
	f.calls++
	if f.calls <= f.fails {
		return nil, &tea.SDKError{StatusCode: tea.Int(503), Code: tea.String("ServiceUnavailable"), Message: tea.String("busy")}
	}
	return map[string]any{"body": map[string]any{"ok": true}}, nil
}

func (f *flaky) DoRPCRequestWithCtx(context.Context, *string, *string, *string, *string, *string, *string, *openapi.OpenApiRequest, *dara.RuntimeOptions) (map[string]interface{}, error) {
	return nil, errors.New("not used")
}

func TestCallRetriesWithTheRequestsBackoff(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		fails, wantCalls int
		wantErr          bool
	}{{0, 1, false}, {2, 3, false}, {maxAttempts, maxAttempts, true}} {
		f := &flaky{fails: tt.fails}
		var pauses []int
		req := Request{Service: "cr", Params: &openapi.Params{Action: dara.String("X")},
			Retry: Retry{Backoff: func(n int) time.Duration { pauses = append(pauses, n); return time.Microsecond }}}
		_, err := Call(context.Background(), f, req)
		if (err != nil) != tt.wantErr || f.calls != tt.wantCalls || len(pauses) != tt.wantCalls-1 {
			t.Errorf("fails %d: err %v, calls %d, pauses %v", tt.fails, err, f.calls, pauses)
		}
	}
	// The default backoff stays within its jittered bounds.
	for n := 1; n <= 6; n++ {
		base := min(200*time.Millisecond<<(n-1), 2*time.Second)
		if d := defaultBackoff(n); d < base/2 || d > base {
			t.Errorf("defaultBackoff(%d) = %v, want [%v, %v]", n, d, base/2, base)
		}
	}
}

// TestScrubKeepsProse: after the words secret, token and password a value that looks like a
// secret is blanked, but the words of a sentence are not (issue 22: "registries[0].secret: an
// entry …" was shown as "secret: *** entry …").
func TestScrubKeepsProse(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"registries[0].secret: an entry with a secret must list the registries it serves", ""},
		{"registries[1].secret: The entry needs domains", ""},
		{"token: expired (fetched again)", ""},
		{"password: hunter2", "password: ***"},
		{"password: hunter", "password: ***"},                            // a lone word ends the text: it could be the secret
		{"secret: Tr0ub4dor&3 was refused", "secret: ***&3 was refused"}, // & ends a query value, as before
		{"token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln next", "token: *** next"},
		{"password:Hunter2Hunter2 more", "password:*** more"},
		{"secret=letters and more", "secret=*** and more"},
		{`{"password": "plain words", "username": "bot"}`, `{"password": "*** words", "username": "bot"}`},
		{`"secret":"abc"`, `"secret":"***"`},
		{"x-acs-security-token: value here", "x-acs-security-token: *** here"},
		{"SecurityToken: plain words", "SecurityToken: *** words"},
	} {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got := Scrub(tt.in); got != want {
			t.Errorf("Scrub(%q)\n = %q\nwant %q", tt.in, got, want)
		}
	}
}
