package main

// The README's CI recipes, as tests of the built binary: the environment a recipe sets, then
// `configure-docker` and a pull (the helper's `get`, as docker runs it), against a loopback fake
// of the CI's token service and the fake STS and registry API.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

var (
	ciRole     = "acs:ram::" + acct + ":role/ci-pull"
	ciProvider = "acs:ram::" + acct + ":oidc-provider/github"
	ciJWT      = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHA6cmVmOnJlZnMvaGVhZHMvbWFpbiJ9.c2ln"
	// ciRequestToken is ACTIONS_ID_TOKEN_REQUEST_TOKEN: a secret that must never be logged.
	ciRequestToken = "gha-request-token-must-stay-secret-0001"
)

// githubTokenService is a loopback stand-in for GitHub Actions' ID token service: it answers
// GET <url>&audience=<aud> with {"value": <jwt>} when the bearer is the job's request token.
type githubTokenService struct {
	requests  atomic.Int32
	audiences chan string
	fail      bool // answer 403, echoing the request token (a hostile body)
}

func (g *githubTokenService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	select {
	case g.audiences <- r.URL.Query().Get("audience"):
	default:
	}
	if g.fail || !strings.EqualFold(r.Header.Get("Authorization"), "bearer "+ciRequestToken) || r.URL.Query().Get("api-version") != "2.0" {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"bad token ` + r.Header.Get("Authorization") + `"}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": ciJWT})
}

// ciEnv is a CI job: no AccessKey, no files, the two ARNs; the role trusts ciJWT for audience aud.
func ciEnv(t *testing.T) *env {
	e := newEnv(t)
	if err := e.fc.AddRole(fakecloud.Role{AccountID: acct, Name: "ci-pull"}); err != nil {
		t.Fatal(err)
	}
	if err := e.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: ciProvider, RoleARN: ciRole, Token: ciJWT, Subject: "repo:org/app:ref:refs/heads/main", Issuer: "https://token.actions.githubusercontent.com"}); err != nil {
		t.Fatal(err)
	}
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	e.vars["ALIBABA_CLOUD_ROLE_ARN"] = ciRole
	e.vars["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"] = ciProvider
	e.vars["DOCKER_CONFIG"] = filepath.Join(e.home, ".docker")
	return e
}

// configureAndPull runs the recipe's `configure-docker` and then the `get` docker makes for a pull.
func (e *env) configureAndPull(host string) result {
	e.t.Helper()
	if r := e.run("", "configure-docker", "--registries", host); r.code != 0 {
		e.t.Fatalf("configure-docker: %+v", r)
	}
	b, err := os.ReadFile(filepath.Join(e.vars["DOCKER_CONFIG"], "config.json"))
	if err != nil || !strings.Contains(string(b), `"`+host+`": "acr"`) {
		e.t.Fatalf("docker config after configure-docker: %s %v", b, err)
	}
	return e.run(host, "get")
}

func assertCIToken(t *testing.T, e *env, r result) {
	t.Helper()
	toks := e.fc.IssuedTokens()
	if r.code != 0 || len(toks) != 1 || !strings.Contains(toks[0].Principal, "assumed-role/ci-pull/") || !strings.Contains(r.stdout, toks[0].Token) {
		t.Fatalf("get: %+v; issued %+v", r, toks)
	}
}

// README "GitHub Actions": permissions id-token: write, the two ARNs, configure-docker, pull.
// The job's first get makes one token request, one AssumeRoleWithOIDC and one registry token
// call; the second get reads the cache. The request token never reaches the log, at debug level.
func TestCIRecipeGitHubActions(t *testing.T) {
	e := ciEnv(t)
	gh := &githubTokenService{audiences: make(chan string, 4)}
	srv := httptest.NewServer(gh)
	defer srv.Close()
	e.vars["ACTIONS_ID_TOKEN_REQUEST_URL"] = srv.URL + "/idtoken?api-version=2.0"
	e.vars["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = ciRequestToken
	e.vars["DOCKER_CREDENTIAL_ACR_LOG_LEVEL"] = "debug"
	const host = "registry.cn-hangzhou.aliyuncs.com"

	r := e.configureAndPull(host)
	assertCIToken(t, e, r)
	if n, a, o, g := gh.requests.Load(), <-gh.audiences, e.fc.Count("AssumeRoleWithOIDC"), e.fc.Count("GetAuthorizationToken"); n != 1 || a != "sts.aliyuncs.com" || o != 1 || g != 1 {
		t.Errorf("first get: %d token requests (audience %q), %d AssumeRoleWithOIDC, %d registry token calls; want 1 (sts.aliyuncs.com), 1, 1", n, a, o, g)
	}
	r2 := e.run(host, "get")
	if r2.code != 0 || r2.stdout != r.stdout {
		t.Fatalf("second get: %+v", r2)
	}
	if n, o, g := gh.requests.Load(), e.fc.Count("AssumeRoleWithOIDC"), e.fc.Count("GetAuthorizationToken"); n != 1 || o != 1 || g != 1 {
		t.Errorf("second get made calls: now %d token requests, %d AssumeRoleWithOIDC, %d registry token calls", n, o, g)
	}
	d := e.run("", "doctor", host)
	if !hasLine(d.stdout, "credentials:", "GitHub Actions OIDC token (audience sts.aliyuncs.com) for role "+ciRole) || !hasLine(d.stdout, "cached token:", "fresh true") {
		t.Errorf("doctor: %s", d.stdout)
	}

	// Another audience is another identity (a fresh exchange), asked for with that audience.
	e.vars["DOCKER_CREDENTIAL_ACR_OIDC_AUDIENCE"] = "my-audience"
	e.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: ciProvider, RoleARN: ciRole, Token: ciJWT})
	if r := e.run(host, "get"); r.code != 0 || gh.requests.Load() != 2 || <-gh.audiences != "my-audience" {
		t.Errorf("audience override: %+v, %d token requests", r, gh.requests.Load())
	}

	// A token service that refuses (and echoes the request token): a clear message, no secret.
	gh.fail = true
	delete(e.vars, "DOCKER_CREDENTIAL_ACR_OIDC_AUDIENCE")
	e.vars["XDG_CACHE_HOME"] = filepath.Join(e.home, "cache2")
	r = e.run(host, "get")
	if r.code != 1 || !strings.Contains(r.stderr, "id-token permission (write)") {
		t.Errorf("refused: %+v", r)
	}
	for _, out := range []result{r, r2, d} {
		if strings.Contains(out.stderr+out.stdout, ciRequestToken) {
			t.Errorf("the request token leaked: %s %s", out.stdout, out.stderr)
		}
	}
}

// README "GitLab CI": id_tokens: {ALIBABA_CLOUD_OIDC_TOKEN: {aud: sts.aliyuncs.com}} and the two
// ARNs; configure-docker, pull. The second get reads the cache.
func TestCIRecipeGitLab(t *testing.T) {
	e := ciEnv(t)
	e.vars["ALIBABA_CLOUD_OIDC_TOKEN"] = ciJWT
	const host = "registry.cn-hangzhou.aliyuncs.com"
	r := e.configureAndPull(host)
	assertCIToken(t, e, r)
	if r2 := e.run(host, "get"); r2.code != 0 || r2.stdout != r.stdout || e.fc.Count("AssumeRoleWithOIDC") != 1 || e.fc.Count("GetAuthorizationToken") != 1 {
		t.Errorf("second get: %+v; %d AssumeRoleWithOIDC, %d token calls", r2, e.fc.Count("AssumeRoleWithOIDC"), e.fc.Count("GetAuthorizationToken"))
	}
}
