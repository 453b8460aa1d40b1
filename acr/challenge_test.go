package acr

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	const (
		personalHZ = `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`
		eeSH       = `Bearer realm="https://dockerauth.cn-shanghai.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:cri-abcdefgh12345678"`
		id         = "cri-abcdefgh12345678"
	)
	personal := func(region string) Challenge { return Challenge{Region: region, Personal: true} }
	ee := func(region, id string) Challenge { return Challenge{Region: region, InstanceID: id} }

	tests := []struct {
		name    string
		header  string
		want    Challenge
		wantErr bool
	}{
		{"personal", personalHZ, personal("cn-hangzhou"), false},
		{"enterprise", eeSH, ee("cn-shanghai", id), false},
		{"personal finance region", `Bearer realm="https://dockerauth.cn-shanghai-finance-1.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai-finance-1:26842"`, personal("cn-shanghai-finance-1"), false},
		{"enterprise intl region", `Bearer realm="https://dockerauth.ap-southeast-1.aliyuncs.com/auth",service="registry.aliyuncs.com:ap-southeast-1:china:cri-0123456789ABCdef"`, ee("ap-southeast-1", "cri-0123456789ABCdef"), false},
		{"enterprise other partition", `Bearer realm="https://dockerauth.eu-central-1.aliyuncs.com/auth",service="registry.aliyuncs.com:eu-central-1:intl:cri-abcdefgh12345678"`, ee("eu-central-1", id), false},
		{"vpc realm", `Bearer realm="https://dockerauth-vpc.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		// The realm families seen in the wild (see isAuthHost for the sources); region and instance
		// always come from the service.
		{"enterprise ee realm", `Bearer realm="https://dockerauth-ee.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:china:cri-abcdefgh12345678"`, ee("cn-hangzhou", id), false},
		{"enterprise ee-vpc realm", `Bearer realm="https://dockerauth-ee-vpc.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:china:cri-abcdefgh12345678"`, ee("cn-hangzhou", id), false},
		{"zhangjiakou hyphen realm", `Bearer realm="https://dockerauth-cn-zhangjiakou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-zhangjiakou:china:cri-abcdefgh12345678"`, ee("cn-zhangjiakou", id), false},
		{"region-less realm", `Bearer realm="https://dockerauth.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:26888",scope="repository:giantswarm/build-test:pull"`, personal("cn-shanghai"), false},
		{"realm region differs from service (personal)", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shenzhen:26842"`, personal("cn-shenzhen"), false},
		{"realm region differs from service (enterprise)", `Bearer realm="https://dockerauth-ee.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-beijing:china:cri-abcdefgh12345678"`, ee("cn-beijing", id), false},
		{"extra service parts after the instance id", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:china:cri-abcdefgh12345678:2a"`, ee("cn-hangzhou", id), false},
		{"extra service parts after the personal number", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842:x:y"`, personal("cn-hangzhou"), false},
		{"params reordered", `Bearer service="registry.aliyuncs.com:cn-hangzhou:26842",realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth"`, personal("cn-hangzhou"), false},
		{"lower-case bearer", strings.Replace(personalHZ, "Bearer", "bearer", 1), personal("cn-hangzhou"), false},
		{"upper-case BEARER and param names", `BEARER REALM="https://dockerauth.cn-hangzhou.aliyuncs.com/auth", Service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		{"spaces around = and commas", `Bearer   realm = "https://dockerauth.cn-hangzhou.aliyuncs.com/auth" ,  service= "registry.aliyuncs.com:cn-hangzhou:26842" ,`, personal("cn-hangzhou"), false},
		{"extra params", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842",scope="repository:ns/app:pull",error="insufficient_scope"`, personal("cn-hangzhou"), false},
		{"comma inside quotes", `Bearer error_description="a, b, c",realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		{"escapes in quoted strings", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/\a\u\t\h",x="say \"hi\", \\o/",service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		{"unquoted extra param", `Bearer foo=bar,realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		{"basic then bearer", `Basic realm="x", ` + personalHZ, personal("cn-hangzhou"), false},
		{"bearer then basic token68", personalHZ + `, Basic dXNlcjpwYXNz==`, personal("cn-hangzhou"), false},
		{"realm upper-case host and scheme", `Bearer realm="HTTPS://DockerAuth.CN-Hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		{"realm port 443", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com:443/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, personal("cn-hangzhou"), false},
		{"leading and trailing whitespace", "  " + personalHZ + "\t", personal("cn-hangzhou"), false},

		{"empty", "", Challenge{}, true},
		{"garbage", "garbage", Challenge{}, true},
		{"binary garbage", "\x00\xff\"=,", Challenge{}, true},
		{"basic only", `Basic realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"bearer no params", "Bearer", Challenge{}, true},
		{"bearer token68", "Bearer abc==", Challenge{}, true},
		{"two bearer challenges", personalHZ + ", " + eeSH, Challenge{}, true},
		{"missing service", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth"`, Challenge{}, true},
		{"missing realm", `Bearer service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"duplicate realm", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",realm="https://evil.example/",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm on another domain", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com.evil.example/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm evil host", `Bearer realm="https://evil.example/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm prefix glued", `Bearer realm="https://xdockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm extra label", `Bearer realm="https://dockerauth.x.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm http", `Bearer realm="http://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm no scheme", `Bearer realm="dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm userinfo", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com@evil.example/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm other port", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com:8443/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm query", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth?x=y",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm trailing dot", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com./auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm confusable", "Bearer realm=\"https://dockerauth.cn-hangzhou.aliyuncs.c\u043em/auth\",service=\"registry.aliyuncs.com:cn-hangzhou:26842\"", Challenge{}, true},
		{"realm with whitespace", `Bearer realm=" https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm unquoted url", `Bearer realm=https://dockerauth.cn-hangzhou.aliyuncs.com/auth,service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"service other prefix", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.docker.io:cn-hangzhou:26842"`, Challenge{}, true},
		{"service no suffix", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou"`, Challenge{}, true},
		{"service empty suffix", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:"`, Challenge{}, true},
		{"service short instance id", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:china:cri-abc"`, Challenge{}, true},
		{"service crpi suffix (format unknown)", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:china:crpi-abcdefgh12345678"`, Challenge{}, true},
		{"service no region", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com::26842"`, Challenge{}, true},
		{"service partition only", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:china"`, Challenge{}, true},
		{"service too many parts", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842` + strings.Repeat(":x", 16) + `"`, Challenge{}, true},
		{"realm dockerauth glued suffix", `Bearer realm="https://dockerauthx.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm unknown family", `Bearer realm="https://dockerauth-intl.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm family with bad region", `Bearer realm="https://dockerauth-ee.cn_hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm one-label bad region", `Bearer realm="https://dockerauth-.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm not aliyuncs", `Bearer realm="https://dockerauth.cn-hangzhou.aliyun.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"realm registry host", `Bearer realm="https://registry.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"unterminated quote", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth,service="registry.aliyuncs.com:cn-hangzhou:26842`, Challenge{}, true},
		{"control char in quotes", "Bearer realm=\"https://dockerauth.cn-hangzhou.aliyuncs.com/auth\x00\",service=\"registry.aliyuncs.com:cn-hangzhou:26842\"", Challenge{}, true},
		{"missing comma", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth" service="registry.aliyuncs.com:cn-hangzhou:26842"`, Challenge{}, true},
		{"scheme glued to quote", `Bearer"realm"`, Challenge{}, true},
		{"over 8 KiB", personalHZ + `,x="` + strings.Repeat("a", 8<<10) + `"`, Challenge{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenge(tt.header)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseChallenge(%q) = %+v, want error", tt.header, got)
				}
				if !errors.Is(err, errNotACRChallenge) {
					t.Fatalf("error %v does not wrap errNotACRChallenge", err)
				}
				if got != (Challenge{}) {
					t.Fatalf("ParseChallenge returned %+v with error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseChallenge(%q): %v", tt.header, err)
			}
			if got != tt.want {
				t.Fatalf("ParseChallenge(%q)\n got %+v\nwant %+v", tt.header, got, tt.want)
			}
		})
	}
}

func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`,
		`Bearer realm="https://dockerauth.cn-shanghai.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:cri-abcdefgh12345678"`,
		`Basic realm="x", bearer service="registry.aliyuncs.com:cn-hangzhou:1", realm="https://dockerauth-vpc.cn-hangzhou.aliyuncs.com/"`,
		`Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com.evil.example/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChallenge(s)
		if err != nil {
			if !errors.Is(err, errNotACRChallenge) || c != (Challenge{}) {
				t.Fatalf("ParseChallenge(%q) = %+v, %v", s, c, err)
			}
			return
		}
		if !ValidRegion(c.Region) {
			t.Fatalf("ParseChallenge(%q): bad region %q", s, c.Region)
		}
		if c.Personal == (c.InstanceID != "") {
			t.Fatalf("ParseChallenge(%q) = %+v: Personal and InstanceID disagree", s, c)
		}
		if c.InstanceID != "" && !isEnterpriseID(c.InstanceID) {
			t.Fatalf("ParseChallenge(%q): bad instance id %q", s, c.InstanceID)
		}
		// A quoted-string may escape any character ("0\\0" is "00"): compare without the backslashes.
		if l := strings.ReplaceAll(strings.ToLower(s), `\`, ""); !strings.Contains(l, "dockerauth") || !strings.Contains(l, c.Region) {
			t.Fatalf("ParseChallenge(%q) = %+v: not from the header", s, c)
		}
	})
}

func TestReadChallenge(t *testing.T) {
	const good = `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`
	// elsewhere answers a valid challenge: a client that followed the redirect to it would succeed.
	var elsewhereHits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereHits.Add(1)
		w.Header().Set("Www-Authenticate", good)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer elsewhere.Close()
	release := make(chan struct{})
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v2/" || r.Header.Get("Authorization") != "" {
			t.Errorf("request %s %s with Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		switch r.URL.Query().Get("case") {
		case "good":
			w.Header().Set("Www-Authenticate", good)
			w.WriteHeader(http.StatusUnauthorized)
		case "basic":
			w.Header().Set("Www-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
		case "redirect":
			http.Redirect(w, r, elsewhere.URL+"/v2/", http.StatusFound)
		case "ok":
			w.WriteHeader(http.StatusOK)
		case "endless body":
			// The header is complete; the body never ends until the test does. A reader of the
			// body would hang here.
			w.Header().Set("Www-Authenticate", good)
			w.WriteHeader(http.StatusUnauthorized)
			w.(http.Flusher).Flush()
			for {
				select {
				case <-release:
					return
				case <-r.Context().Done():
					return
				default:
					if _, err := w.Write(make([]byte, 1<<10)); err != nil {
						return
					}
				}
			}
		}
	}))
	defer registry.Close()
	defer close(release)

	tests := []struct {
		name       string
		want       Challenge
		wantHeader string
		wantErr    string
	}{
		{name: "good", want: Challenge{Region: "cn-hangzhou", Personal: true}, wantHeader: good},
		{name: "basic", wantHeader: `Basic realm="registry"`, wantErr: "no Bearer challenge"},
		{name: "redirect", wantErr: "answered 302, not 401"},
		{name: "ok", wantErr: "answered 200, not 401"},
		{name: "endless body", want: Challenge{Region: "cn-hangzhou", Personal: true}, wantHeader: good},
	}
	for _, tt := range tests {
		// The zero client follows redirects: ReadChallenge must not.
		ch, header, err := ReadChallenge(context.Background(), &http.Client{}, registry.URL+"/v2/?case="+url.QueryEscape(tt.name))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ch != (Challenge{}) || header != tt.wantHeader {
				t.Errorf("%s: ReadChallenge = %+v, %q, %v; want error %q, header %q", tt.name, ch, header, err, tt.wantErr, tt.wantHeader)
			}
			continue
		}
		if err != nil || ch != tt.want || header != tt.wantHeader {
			t.Errorf("%s: ReadChallenge = %+v, %q, %v; want %+v, %q", tt.name, ch, header, err, tt.want, tt.wantHeader)
		}
	}
	if n := elsewhereHits.Load(); n != 0 {
		t.Errorf("the redirect was followed (%d requests elsewhere)", n)
	}
	if _, _, err := ReadChallenge(context.Background(), nil, "http://[::1"); err == nil {
		t.Error("bad URL accepted")
	}
}
