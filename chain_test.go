package main

// Binary-level tests of the credential chain: which identity answers, and that the token, its
// cache key, the log line and doctor always name the same one.

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/netns"
)

var (
	rrsaRole     = "acs:ram::" + acct + ":role/rrsa-app"
	rrsaProvider = "acs:ram::" + acct + ":oidc-provider/ack-rrsa"
	rrsaToken    = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDphcHAifQ.c2ln"
)

// writeFile writes a private file under the test's home.
func (e *env) writeFile(rel, body string) string {
	e.t.Helper()
	p := filepath.Join(e.home, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// rrsaEnv is a pod with RRSA (role, provider, token file) and also a credentials file whose user
// could answer: the situation of issue 11 finding 1.
func rrsaEnv(t *testing.T) *env {
	e := newEnv(t)
	if err := e.fc.AddRole(fakecloud.Role{AccountID: acct, Name: "rrsa-app"}); err != nil {
		t.Fatal(err)
	}
	if err := e.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: rrsaProvider, RoleARN: rrsaRole, Token: rrsaToken}); err != nil {
		t.Fatal(err)
	}
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	e.vars["ALIBABA_CLOUD_ROLE_ARN"] = rrsaRole
	e.vars["ALIBABA_CLOUD_OIDC_PROVIDER_ARN"] = rrsaProvider
	e.vars["ALIBABA_CLOUD_OIDC_TOKEN_FILE"] = e.writeFile("token", rrsaToken)
	e.writeFile(".alibabacloud/credentials", "[default]\ntype = access_key\naccess_key_id = "+ak+"\naccess_key_secret = "+sk+"\n")
	return e
}

// Issue 11 finding 1: the RRSA exchange fails once while a credentials file's user could answer.
// That user's token must never be handed out (nor cached under the RRSA key): the failure names
// RRSA, and once RRSA recovers its own token is served.
func TestChainFailingSourceIsNotReplaced(t *testing.T) {
	e := rrsaEnv(t)
	e.vars["DOCKER_CREDENTIAL_ACR_LOG_LEVEL"] = "debug"
	e.fc.Inject("AssumeRoleWithOIDC", fakecloud.FaultAPIError(400, "AuthenticationFail.OIDCToken.Invalid", "The OIDC token is invalid."))
	const host = "registry.cn-hangzhou.aliyuncs.com"
	r := e.run(host, "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != notFound {
		t.Fatalf("first get, RRSA failing: want not found, got %+v", r)
	}
	t.Logf("first get: %s", r.stderr)
	if !strings.Contains(r.stderr, "RRSA (OIDC) role "+rrsaRole) || !strings.Contains(r.stderr, "AuthenticationFail.OIDCToken.Invalid") {
		t.Errorf("the failure does not name the RRSA source and its error: %s", r.stderr)
	}
	for _, tok := range e.fc.IssuedTokens() {
		t.Errorf("a token was issued while the configured source failed: %+v", tok)
	}
	// RRSA recovered: its own token, not a cached one of another identity.
	r = e.run(host, "get")
	if r.code != 0 {
		t.Fatalf("second get: %+v", r)
	}
	toks := e.fc.IssuedTokens()
	if len(toks) != 1 || !strings.Contains(toks[0].Principal, "assumed-role/rrsa-app/") || !strings.Contains(r.stdout, toks[0].Token) {
		t.Fatalf("second get served %q; issued %+v", r.stdout, toks)
	}
	if !strings.Contains(r.stderr, "credentials=RRSA (OIDC) role "+rrsaRole+",") {
		t.Errorf("the log does not name the identity used: %s", r.stderr)
	}
	// doctor names the same identity the token came from.
	d := e.run("", "doctor", host)
	if !hasLine(d.stdout, "credentials:", "RRSA (OIDC) role "+rrsaRole) || !hasLine(d.stdout, "cached token:", "user cr_temp_user") {
		t.Errorf("doctor: %s", d.stdout)
	}
}

// hasLine reports whether a line of out starts (after indentation) with key and contains value.
func hasLine(out, key, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, key) && strings.Contains(l, value) {
			return true
		}
	}
	return false
}

// metadataOnRealAddress serves the fake's metadata service on 100.100.100.200:80, the address the
// helper always dials (call it inside netns.Enter), and points every proxy variable at the
// recording proxy: the metadata fetch must never go there. It returns the proxy's targets so far.
func (e *env) metadataOnRealAddress() func() []string {
	e.t.Helper()
	ln, err := net.Listen("tcp", netns.MetadataAddr+":80")
	if err != nil {
		e.t.Fatal(err)
	}
	srv := &http.Server{Handler: e.fc.MetadataProxyHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	e.t.Cleanup(func() { srv.Close() })
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"} {
		e.vars[k] = e.vars["HTTPS_PROXY"]
	}
	return func() []string {
		e.proxy.mu.Lock()
		defer e.proxy.mu.Unlock()
		return append([]string(nil), e.proxy.targets...)
	}
}
