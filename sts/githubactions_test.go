package sts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGitHubIDToken(t *testing.T) {
	const reqToken = "gh-request-token-secret"
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vciJ9.c2ln"
	var gotAud, gotAuth, gotRun string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAud, gotAuth, gotRun = r.URL.Query().Get("audience"), r.Header.Get("Authorization"), r.URL.Query().Get("api-version")
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"count":1,"value":"` + jwt + `"}`))
		case "/forbidden":
			w.WriteHeader(403)
			w.Write([]byte(reqToken)) // a hostile body echoing the secret must not reach the error
		case "/garbage":
			w.Write([]byte(`{"value":"` + reqToken + `"}`))
		case "/huge":
			w.Write([]byte(strings.Repeat("a", 1<<20)))
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, url, aud, want, wantErr string
	}{
		{name: "token", url: srv.URL + "/ok?api-version=2.0", aud: "sts.aliyuncs.com", want: jwt},
		{name: "custom audience", url: srv.URL + "/ok?api-version=2.0", aud: "my-aud", want: jwt},
		{name: "no permission", url: srv.URL + "/forbidden", aud: "a", wantErr: "id-token permission (write)"},
		{name: "not a token", url: srv.URL + "/garbage", aud: "a", wantErr: "did not answer with an ID token"},
		{name: "huge", url: srv.URL + "/huge", aud: "a", wantErr: "over 256 KiB"},
		{name: "plain http off loopback", url: "http://tokens.example.test/x", aud: "a", wantErr: "must be an https URL"},
		{name: "not a URL", url: "::", aud: "a", wantErr: "is not a URL"},
		{name: "userinfo", url: "https://u:p@tokens.example.test/x", aud: "a", wantErr: "is not a URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := githubIDToken(context.Background(), srv.Client(), tc.url, reqToken, tc.aud)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), reqToken) {
					t.Fatalf("the request token leaked into the error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || gotAud != tc.aud || gotAuth != "bearer "+reqToken || gotRun != "2.0" {
				t.Fatalf("token %q audience %q auth %q api-version %q", got, gotAud, gotAuth, gotRun)
			}
		})
	}
}

// The OIDC source of the environment, as credentials-go orders it, and its identity: the role, the
// provider and the audience for GitHub Actions (never the request token, which is a secret and
// changes per job), so that a job's later pulls hit the cache.
func TestOIDCFromEnv(t *testing.T) {
	const role, provider, reqToken = "acs:ram::1:role/ci", "acs:ram::1:oidc-provider/gh", "req-token-secret"
	gh := testEnv{"ALIBABA_CLOUD_ROLE_ARN": role, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": provider,
		"ACTIONS_ID_TOKEN_REQUEST_URL": "https://tokens.example.test/x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqToken}
	chain := func(e testEnv, aud string) *Chain {
		return NewChain(ChainOptions{Getenv: e.get, OIDCAudience: aud, DMIDir: t.TempDir()})
	}
	c := chain(gh, "")
	if c.Identity() != "oidc\x00"+role+"\x00"+provider+"\x00github-actions:sts.aliyuncs.com" || !strings.Contains(c.Describe(), "GitHub Actions") {
		t.Fatalf("identity %q, describe %q", c.Identity(), c.Describe())
	}
	other := testEnv{}
	for k, v := range gh {
		other[k] = v
	}
	other["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "another-job"
	if chain(other, "").Identity() != c.Identity() || strings.Contains(c.Identity(), reqToken) {
		t.Error("the identity depends on the request token")
	}
	if chain(gh, "aud2").Identity() == c.Identity() {
		t.Error("another audience, the same identity")
	}
	other["ALIBABA_CLOUD_OIDC_TOKEN_FILE"] = "/var/run/token"
	if id := chain(other, "").Identity(); !strings.HasSuffix(id, "file:/var/run/token") {
		t.Errorf("a token file comes before GitHub Actions: %q", id)
	}
	other["ALIBABA_CLOUD_OIDC_TOKEN"] = "eyJ.a.b"
	if c := chain(other, ""); !strings.Contains(c.Identity(), "token:") || !strings.Contains(c.Describe(), "ALIBABA_CLOUD_OIDC_TOKEN") {
		t.Errorf("the token itself comes first: %q %q", c.Identity(), c.Describe())
	}
	delete(other, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
	if !chain(other, "").Empty() {
		t.Error("an OIDC source without the provider ARN")
	}
}
