package sts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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
		{name: "a name that starts with 127.", url: "http://127.attacker.test/x", aud: "a", wantErr: "must be an https URL"},
		{name: "a name that starts with 127., with a port", url: "http://127.0.0.1.attacker.test:8080/x", aud: "a", wantErr: "must be an https URL"},
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
	if !strings.HasPrefix(c.Identity(), "oidc\x00"+role+"\x00"+provider+"\x00github-actions:sts.aliyuncs.com") || !strings.Contains(c.Describe(), "GitHub Actions") {
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

// Issue 20 §4: plain http to a loopback token service goes direct, never through the proxy the
// client would use (the proxy would see the request token).
func TestGitHubIDTokenLoopbackNeverThroughAProxy(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm8vciJ9.c2ln"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"value":"` + jwt + `"}`))
	}))
	defer srv.Close()
	var proxied int
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied++
		http.Error(w, "proxy", http.StatusForbidden)
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		got, err := githubIDToken(context.Background(), viaProxy, u+"/x", "req-token", "a")
		if err != nil || got != jwt {
			t.Errorf("%s: %q %v", u, got, err)
		}
	}
	if proxied != 0 {
		t.Errorf("the proxy saw %d requests", proxied)
	}
}

// Issue 20 §9: on a persistent self-hosted runner, a later job of another repository (or another
// run or job of the same one) never shares the first job's identity, and so never its cached
// token; the steps of one job do.
func TestGitHubActionsIdentityIsTheJob(t *testing.T) {
	job := testEnv{"ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/ci", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/gh",
		"ACTIONS_ID_TOKEN_REQUEST_URL": "https://tokens.example.test/x", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-1",
		"GITHUB_REPOSITORY": "org/app", "GITHUB_REPOSITORY_ID": "101", "GITHUB_RUN_ID": "5001", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "build"}
	id := func(e testEnv) string { return NewChain(ChainOptions{Getenv: e.get, DMIDir: t.TempDir()}).Identity() }
	first := id(job)
	with := func(k, v string) testEnv {
		e := testEnv{}
		for k, v := range job {
			e[k] = v
		}
		e[k] = v
		return e
	}
	if id(with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req-2")) != first {
		t.Error("a later step of the same job has another identity")
	}
	for k, v := range map[string]string{"GITHUB_REPOSITORY": "other/tool", "GITHUB_REPOSITORY_ID": "202", "GITHUB_RUN_ID": "5002", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "deploy"} {
		if id(with(k, v)) == first {
			t.Errorf("%s=%s: the same identity as the first job", k, v)
		}
	}
}
