package main

// The built binary serving registries that are not ACR from KMS Secrets Manager secrets, driven as
// docker and the kubelet drive it. The helper calls KMS at its real names
// (https://kms.<region>.aliyuncs.com): the HTTPS proxy of these tests tunnels exactly those names
// to a loopback TLS server per region (the fake's RegionHandler, with a certificate the binary
// trusts through SSL_CERT_FILE) and refuses everything else, so a call to the wrong region finds
// no secret, and nothing leaves the machine.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The logins stored in the secrets: what the helper hands out, and what must never leak.
const (
	ghcrUser = "ghcr-bot"
	ghcrPW   = "ghp_KmsE2eSecretValue00000000000000001"
	hubUser  = "hubpuller"
	hubPW    = "dckr_pat_KmsE2eSecretValue0000000002"
	hubPW2   = "dckr_pat_KmsE2eRotatedValue000000003"
	// Fragments of values that are not logins: never echoed.
	notLoginValue = "hunter2-not-a-login-value-0004"
	binaryValue   = "YmluYXJ5LXNlY3JldC12YWx1ZS0wMDA1"
	cmkPW         = "cmk-protected-password-0006"
	readerOnlyPW  = "readers-only-password-0007"
)

var kmsRegions = []string{"cn-hangzhou", "cn-shanghai", "cn-beijing"}

// kmsRouter is the HTTPS proxy: CONNECT to kms[-vpc].<region>.aliyuncs.com:443 is tunnelled to
// that region's loopback TLS server; anything else is refused and recorded.
type kmsRouter struct {
	backends map[string]string // "kms.cn-hangzhou.aliyuncs.com:443" → 127.0.0.1:port
	mu       sync.Mutex
	refused  []string
}

func (p *kmsRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	addr, ok := p.backends[r.Host]
	if r.Method != http.MethodConnect || !ok {
		p.mu.Lock()
		p.refused = append(p.refused, r.Host)
		p.mu.Unlock()
		http.Error(w, "no internet in tests", http.StatusForbidden)
		return
	}
	up, err := net.Dial("tcp", addr)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		_, _ = io.Copy(up, buf)
		up.Close()
	}()
	_, _ = io.Copy(conn, up)
	conn.Close()
}

// kmsCert is a self-signed certificate for the KMS names of kmsRegions (public and VPC).
func kmsCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range kmsRegions {
		names = append(names, "kms."+r+".aliyuncs.com", "kms-vpc."+r+".aliyuncs.com")
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "kms test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, DNSNames: names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

var (
	secretsReader = "acs:ram::" + acctB + ":role/secrets-reader"
	noDecryptRole = "acs:ram::" + acct + ":role/no-decrypt"
	hubARN        = "acs:kms:cn-shanghai:" + acctB + ":secret/dockerhub-pull"
	ghcrARN       = "acs:kms:cn-hangzhou:" + acct + ":secret/ghcr-pull"
)

// secretsConfig: GHCR from a secret of the caller's own account by name; Docker Hub from an ARN
// in another region and account, read through a role hop; and one entry per error kind.
var secretsConfig = `
registries:
  - domains: [ghcr.io]
    secret: ghcr-pull
    regionId: cn-hangzhou
  - domains: [docker.io]
    secret: ` + hubARN + `
    arnUser: ` + secretsReader + `
  - domains: [missing.example.com]
    secret: no-such-secret
    regionId: cn-hangzhou
  - domains: [wrong-region.example.com]
    secret: ghcr-pull
    regionId: cn-beijing
  - domains: [stage.example.com]
    secret: ghcr-pull
    regionId: cn-hangzhou
    versionStage: ACSPending
  - domains: [not-login.example.com]
    secret: not-a-login
    regionId: cn-hangzhou
  - domains: [binary.example.com]
    secret: binary-secret
    regionId: cn-hangzhou
  - domains: [readers.example.com]
    secret: readers-only
    regionId: cn-hangzhou
  - domains: [cmk.example.com]
    secret: cmk-secret
    regionId: cn-hangzhou
    arnUser: ` + noDecryptRole + `
`

type secretsEnv struct {
	*env
	router *kmsRouter
}

func newSecretsEnv(t *testing.T) *secretsEnv {
	t.Helper()
	e := newEnv(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.fc.AddRole(fakecloud.Role{AccountID: acctB, Name: "secrets-reader", TrustedAccounts: []string{acct}}))
	must(e.fc.AddRole(fakecloud.Role{AccountID: acct, Name: "no-decrypt", TrustedAccounts: []string{acct}, Deny: []string{"kms:Decrypt"}}))
	login := func(u, p string) string {
		b, _ := json.Marshal(map[string]string{"username": u, "password": p})
		return string(b)
	}
	for _, s := range []fakecloud.Secret{
		{AccountID: acct, Region: "cn-hangzhou", Name: "ghcr-pull", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: `{"Username": "` + ghcrUser + `", "PASSWORD": "` + ghcrPW + `"}`}}},
		{AccountID: acctB, Region: "cn-shanghai", Name: "dockerhub-pull", Readers: []string{secretsReader}, Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: login(hubUser, hubPW)}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "not-a-login", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: `{"username": "u", "pass": "` + notLoginValue + `"}`}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "binary-secret", DataType: "binary", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: binaryValue}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "readers-only", Readers: []string{"acs:ram::" + acct + ":role/someone-else"}, Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: login("r", readerOnlyPW)}}},
		{AccountID: acct, Region: "cn-hangzhou", Name: "cmk-secret", EncryptionKeyID: "key-0123456789abcdef", Versions: []fakecloud.SecretVersion{{VersionID: "v1", Data: login("c", cmkPW)}}},
	} {
		must(e.fc.AddSecret(s))
	}
	cert, certPEM := kmsCert(t)
	router := &kmsRouter{backends: map[string]string{}}
	for _, region := range kmsRegions {
		srv := httptest.NewUnstartedServer(e.fc.RegionHandler(region))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		addr := srv.Listener.Addr().String()
		router.backends["kms."+region+".aliyuncs.com:443"] = addr
		router.backends["kms-vpc."+region+".aliyuncs.com:443"] = addr
	}
	ps := httptest.NewServer(router)
	t.Cleanup(ps.Close)
	caFile := filepath.Join(t.TempDir(), "kms-ca.pem")
	must(os.WriteFile(caFile, certPEM, 0o600))
	e.vars["HTTPS_PROXY"] = ps.URL
	e.vars["SSL_CERT_FILE"] = caFile
	e.config(secretsConfig)
	return &secretsEnv{env: e, router: router}
}

// kmsCalls are the fake's GetSecretValue calls.
func (e *secretsEnv) kmsCalls() []fakecloud.Call {
	var out []fakecloud.Call
	for _, c := range e.fc.Calls() {
		if c.Action == "GetSecretValue" {
			out = append(out, c)
		}
	}
	return out
}

func TestSecretsGHCRAndDockerHub(t *testing.T) {
	e := newSecretsEnv(t)
	c, err := e.get("ghcr.io")
	if err != nil {
		t.Fatalf("ghcr.io: %v; stderr %s", err, lastStderr())
	}
	if c.Username != ghcrUser || c.Secret != ghcrPW || c.ServerURL != "ghcr.io" {
		t.Errorf("ghcr.io: %+v", c)
	}
	calls := e.kmsCalls()
	if len(calls) != 1 || calls[0].Host != "kms.cn-hangzhou.aliyuncs.com" || calls[0].Params["SecretName"] != "ghcr-pull" ||
		calls[0].Params["VersionStage"] != "ACSCurrent" || calls[0].Style != "ACS3" || calls[0].Principal != "acs:ram::"+acct+":user/dev" {
		t.Fatalf("KMS calls for ghcr.io: %+v", calls)
	}

	// Docker Hub: every name docker, crane, podman and skopeo send is one registry, one secret
	// (an ARN in another region and account), read through the role hop.
	for i, h := range []string{"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", "docker.io", "HTTPS://INDEX.DOCKER.IO/V1/"} {
		c, err := e.get(h)
		if err != nil {
			t.Fatalf("%s: %v; stderr %s", h, err, lastStderr())
		}
		if c.Username != hubUser || c.Secret != hubPW {
			t.Errorf("%s: %+v", h, c)
		}
		if n := len(e.kmsCalls()); n != 2 {
			t.Errorf("after %d Docker Hub gets: %d KMS calls, want 2 (one for ghcr.io, one for Docker Hub)", i+1, n)
		}
	}
	hub := e.kmsCalls()[1]
	if hub.Host != "kms.cn-shanghai.aliyuncs.com" || hub.Params["SecretName"] != hubARN || !strings.HasPrefix(hub.Principal, "acs:ram::"+acctB+":assumed-role/secrets-reader/") || hub.Status != 200 {
		t.Errorf("Docker Hub KMS call: %+v", hub)
	}
	if n := e.fc.Count("AssumeRole"); n != 1 {
		t.Errorf("AssumeRole calls %d, want 1", n)
	}
	if n := e.fc.Count("GetAuthorizationToken"); n != 0 {
		t.Errorf("%d ACR token calls for registries that are not ACR", n)
	}
	// Hosts no entry lists are not found, with no call; Docker Hub look-alikes are not Docker Hub.
	before := len(e.fc.Calls())
	for _, h := range []string{"quay.io", "index.docker.io.evil.example", "docker.io:5000", "evil.example/docker.io"} {
		if _, err := e.get(h); !credentials.IsErrCredentialsNotFound(err) {
			t.Errorf("%s: %v", h, err)
		}
	}
	if n := len(e.fc.Calls()); n != before {
		t.Errorf("%d API calls for unlisted hosts", n-before)
	}
	e.router.mu.Lock()
	defer e.router.mu.Unlock()
	if len(e.router.refused) != 0 {
		t.Errorf("outbound connections refused by the proxy: %q", e.router.refused)
	}
}

// The cache: a second process is served from the cache with no call at all; erase removes the
// login; NO_CACHE asks KMS each time and writes nothing.
func TestSecretsCacheEraseAndNoCache(t *testing.T) {
	e := newSecretsEnv(t)
	if _, err := e.get("ghcr.io"); err != nil {
		t.Fatalf("%v; stderr %s", err, lastStderr())
	}
	before := len(e.fc.Calls())
	c, err := e.get("ghcr.io")
	if err != nil || c.Secret != ghcrPW {
		t.Fatalf("%+v %v", c, err)
	}
	if n := len(e.fc.Calls()) - before; n != 0 {
		t.Errorf("a cached login made %d API calls", n)
	}
	list, err := client.List(e.program())
	if err != nil || list["ghcr.io"] != ghcrUser {
		t.Errorf("list %v %v", list, err)
	}
	dir := filepath.Join(e.home, "cache", "docker-credential-acr")
	st, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := st.List()
	if len(entries) != 1 || entries[0].Host != "ghcr.io" {
		t.Fatalf("cache entries %v", entries)
	}
	// secretTTL (default 15m) bounds the entry.
	if life := entries[0].ExpiresAt.Sub(entries[0].FetchedAt); life != 15*time.Minute {
		t.Errorf("cached for %v, want the default secretTTL 15m", life)
	}
	if err := client.Erase(e.program(), "ghcr.io"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := st.List(); len(entries) != 0 {
		t.Errorf("after erase: %v", entries)
	}
	if _, err := e.get("ghcr.io"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.kmsCalls()); n != 2 {
		t.Errorf("KMS calls %d, want 2 (erase removed the cached login)", n)
	}
	// Erasing a Docker Hub alias removes the one Docker Hub login.
	if _, err := e.get("https://index.docker.io/v1/"); err != nil {
		t.Fatal(err)
	}
	if err := client.Erase(e.program(), "registry-1.docker.io"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.get("docker.io"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.kmsCalls()); n != 4 {
		t.Errorf("KMS calls %d, want 4 (erasing registry-1.docker.io removed the Docker Hub login)", n)
	}

	e.vars["DOCKER_CREDENTIAL_ACR_NO_CACHE"] = "1"
	e.vars["XDG_CACHE_HOME"] = filepath.Join(e.home, "nocache")
	for i := 0; i < 2; i++ {
		if c, err := e.get("ghcr.io"); err != nil || c.Secret != ghcrPW {
			t.Fatalf("NO_CACHE: %+v %v", c, err)
		}
	}
	if n := len(e.kmsCalls()); n != 6 {
		t.Errorf("KMS calls %d, want 6: with NO_CACHE every get reads the secret", n)
	}
	if _, err := os.Stat(filepath.Join(e.home, "nocache")); !os.IsNotExist(err) {
		t.Errorf("NO_CACHE made a cache directory: %v", err)
	}
}

// A rotated secret (PutSecretValue: the new version becomes ACSCurrent) is picked up once
// secretTTL is over, and not before.
func TestSecretsRotationWithinSecretTTL(t *testing.T) {
	e := newSecretsEnv(t)
	e.config(strings.Replace(secretsConfig, "    arnUser: "+secretsReader+"\n", "    arnUser: "+secretsReader+"\n    secretTTL: 2s\n", 1))
	if c, err := e.get("docker.io"); err != nil || c.Secret != hubPW {
		t.Fatalf("%+v %v; stderr %s", c, err, lastStderr())
	}
	st, err := cache.Open(filepath.Join(e.home, "cache", "docker-credential-acr"))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := st.List()
	if len(entries) != 1 || entries[0].ExpiresAt.Sub(entries[0].FetchedAt) != 2*time.Second {
		t.Fatalf("cache entries %v", entries)
	}
	expires := entries[0].ExpiresAt
	if _, err := e.fc.PutSecretValue(hubARN, `{"username": "`+hubUser+`", "password": "`+hubPW2+`"}`); err != nil {
		t.Fatal(err)
	}
	c, err := e.get("docker.io")
	if err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(expires) && c.Secret != hubPW {
		t.Errorf("within secretTTL: got the rotated login, want the cached one")
	}
	time.Sleep(time.Until(expires) + 10*time.Millisecond)
	c, err = e.get("docker.io")
	if err != nil || c.Secret != hubPW2 || c.Username != hubUser {
		t.Errorf("after secretTTL: %+v %v, want the rotated password", c, err)
	}
	calls := e.kmsCalls()
	if last := calls[len(calls)-1]; last.Status != 200 || last.Params["VersionStage"] != "ACSCurrent" {
		t.Errorf("last KMS call %+v", last)
	}
}

// Each error kind: the default answer is "not found" with one stderr line naming the fix (and
// never the value); strict mode answers with the error.
func TestSecretsErrors(t *testing.T) {
	e := newSecretsEnv(t)
	tests := []struct {
		host string
		want []string // substrings of the one stderr line
	}{
		{"missing.example.com", []string{"KMS secret no-such-secret (cn-hangzhou) not found", "check the secret's name, its region"}},
		{"wrong-region.example.com", []string{"ghcr-pull (cn-beijing) not found", "endpoint https://kms.cn-beijing.aliyuncs.com"}},
		{"stage.example.com", []string{"not found (version stage ACSPending", "versionStage"}},
		{"not-login.example.com", []string{"(version v1) is not a registry login", `has no "password" key`}},
		{"binary.example.com", []string{"(version v1) is a binary secret", "store the login as a text secret"}},
		{"readers.example.com", []string{"allow kms:GetSecretValue on acs:kms:cn-hangzhou:*:secret/readers-only", "doctor --policy readers.example.com"}},
		{"cmk.example.com", []string{"encrypted with a customer key; allow kms:Decrypt on that key", noDecryptRole}},
	}
	never := []string{notLoginValue, binaryValue, cmkPW, readerOnlyPW, ghcrPW, sk}
	for _, tt := range tests {
		r := e.run(tt.host, "get")
		line := strings.TrimSpace(r.stderr)
		if r.code != 1 || strings.TrimSpace(r.stdout) != notFound || strings.Count(line, "\n") != 0 {
			t.Errorf("%s: want exit 1, %q and one stderr line; got %+v", tt.host, notFound, r)
		}
		for _, w := range append(tt.want, "registry login for "+tt.host+" from Alibaba Cloud KMS Secrets Manager failed", "DOCKER_CREDENTIAL_ACR_STRICT=1") {
			if !strings.Contains(line, w) {
				t.Errorf("%s: stderr %q lacks %q", tt.host, line, w)
			}
		}
		for _, v := range never {
			if strings.Contains(r.stderr+r.stdout, v) {
				t.Errorf("%s: the output holds a secret value %.8s…", tt.host, v)
			}
		}
	}
	e.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "1"
	for _, tt := range tests {
		r := e.run(tt.host, "get")
		if r.code != 1 || !strings.Contains(r.stdout, tt.want[0]) || strings.Contains(r.stdout, notFound) {
			t.Errorf("strict %s: %+v", tt.host, r)
		}
		for _, v := range never {
			if strings.Contains(r.stderr+r.stdout, v) {
				t.Errorf("strict %s: the output holds a secret value %.8s…", tt.host, v)
			}
		}
	}
	// Nothing failed was cached.
	st, _ := cache.Open(filepath.Join(e.home, "cache", "docker-credential-acr"))
	if entries, _ := st.List(); len(entries) != 0 {
		t.Errorf("failures left cache entries: %v", entries)
	}
	// Throttling (Rejected.Throttling, HTTP 429) is retried.
	delete(e.vars, "DOCKER_CREDENTIAL_ACR_STRICT")
	e.fc.Inject("GetSecretValue", fakecloud.FaultThrottling("Rejected.Throttling", 429))
	n := len(e.kmsCalls())
	if c, err := e.get("ghcr.io"); err != nil || c.Secret != ghcrPW {
		t.Fatalf("after a throttled call: %+v %v; stderr %s", c, err, lastStderr())
	}
	if got := len(e.kmsCalls()) - n; got != 2 {
		t.Errorf("KMS calls %d, want 2 (the throttled one, then the retry)", got)
	}
}

// runKubelet runs the binary as the kubelet runs its plugin.
func (e *secretsEnv) runKubelet(t *testing.T, image string) (stdout, stderr string, err error) {
	t.Helper()
	plugin := filepath.Join(e.home, "plugins", "acr-credential-provider")
	if _, err := os.Stat(plugin); err != nil {
		if err := os.MkdirAll(filepath.Dir(plugin), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(helperBin, plugin); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(plugin)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"` + image + `"}`)
	var o, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &se
	err = cmd.Run()
	return o.String(), se.String(), err
}

// The kubelet pulls Docker Hub images with the node's identity: no imagePullSecrets.
func TestSecretsKubeletDockerHubImage(t *testing.T) {
	e := newSecretsEnv(t)
	for _, image := range []string{"docker.io/library/nginx:1.27", "nginx", "index.docker.io/library/alpine:3", "ghcr.io/org/app:1"} {
		out, stderr, err := e.runKubelet(t, image)
		if err != nil {
			t.Fatalf("%s: %v: %s", image, err, stderr)
		}
		var resp struct {
			Kind          string `json:"kind"`
			CacheKeyType  string `json:"cacheKeyType"`
			CacheDuration string `json:"cacheDuration"`
			Auth          map[string]struct{ Username, Password string }
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("%s: %q", image, out)
		}
		key, user, pw := "docker.io", hubUser, hubPW
		switch {
		case strings.HasPrefix(image, "index.docker.io/"):
			key = "index.docker.io"
		case strings.HasPrefix(image, "ghcr.io/"):
			key, user, pw = "ghcr.io", ghcrUser, ghcrPW
		}
		a, ok := resp.Auth[key]
		if resp.Kind != "CredentialProviderResponse" || resp.CacheKeyType != "Registry" || !ok || a.Username != user || a.Password != pw || len(resp.Auth) != 1 {
			t.Errorf("%s: %+v", image, resp)
		}
		// The kubelet keeps the login no longer than the helper does: the rest of secretTTL.
		if d, err := time.ParseDuration(resp.CacheDuration); err != nil || d <= 0 || d > 15*time.Minute {
			t.Errorf("%s: cacheDuration %q, want (0, 15m]", image, resp.CacheDuration)
		}
		if strings.Contains(stderr, pw) {
			t.Errorf("%s: stderr holds the password", image)
		}
	}
	if n := len(e.kmsCalls()); n != 2 {
		t.Errorf("KMS calls %d, want 2 (Docker Hub and GHCR, the rest from the cache)", n)
	}
}

// configure-docker writes every Docker Hub key (docker looks credHelpers up under
// https://index.docker.io/v1/) and print-kubelet-config matches the config's domains.
func TestSecretsConfigureDockerAndKubeletConfig(t *testing.T) {
	e := newSecretsEnv(t)
	dir := filepath.Join(e.home, "docker")
	e.vars["DOCKER_CONFIG"] = dir
	r := e.run("", "configure-docker")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ CredHelpers map[string]string }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", "docker.io", "ghcr.io", "missing.example.com"} {
		if doc.CredHelpers[k] != "acr" {
			t.Errorf("credHelpers[%q] = %q; file:\n%s", k, doc.CredHelpers[k], b)
		}
	}
	r = e.run("", "print-kubelet-config")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, m := range []string{`- "docker.io"`, `- "index.docker.io"`, `- "registry-1.docker.io"`, `- "ghcr.io"`, `- "registry*.*.aliyuncs.com"`} {
		if !strings.Contains(r.stdout, m+"\n") {
			t.Errorf("print-kubelet-config lacks %s:\n%s", m, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "https://") {
		t.Errorf("a server URL in matchImages:\n%s", r.stdout)
	}
}

// doctor names the secret, its region, endpoint and stage, never the value; --online reads it
// with its latency; --policy prints what each identity needs.
func TestSecretsDoctor(t *testing.T) {
	e := newSecretsEnv(t)
	r := e.run("", "doctor", "ghcr.io", "https://index.docker.io/v1/")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, w := range []string{"secret:            ghcr-pull (cn-hangzhou)", "KMS endpoint:      https://kms.cn-hangzhou.aliyuncs.com", "version stage:     ACSCurrent",
		"host:              docker.io", "secret:            " + hubARN, "KMS endpoint:      https://kms.cn-shanghai.aliyuncs.com",
		"role chain:        base credentials → " + secretsReader, "read by:           environment AccessKey → " + secretsReader + "\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("doctor lacks %q:\n%s", w, r.stdout)
		}
	}
	if n := len(e.fc.Calls()); n != 0 {
		t.Errorf("offline doctor made %d calls", n)
	}
	r = e.run("", "doctor", "--online", "--json", "docker.io", "readers.example.com")
	var reports []struct {
		Host   string
		Secret struct{ ARN, Endpoint, VersionStage, VersionID string }
		Steps  []struct {
			Name          string
			OK            bool
			Detail, Error string
		}
		Problems []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &reports); err != nil || len(reports) != 2 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	hub, readers := reports[0], reports[1]
	if r.code != 1 || hub.Secret.VersionID != "v1" || len(hub.Problems) != 0 || len(hub.Steps) != 3 || !hub.Steps[2].OK ||
		hub.Steps[2].Name != "KMS GetSecretValue "+hubARN || !strings.Contains(hub.Steps[2].Detail, "user "+hubUser+", version v1") {
		t.Errorf("docker.io online: %+v", hub)
	}
	if len(readers.Problems) != 1 || !strings.Contains(readers.Problems[0], "allow kms:GetSecretValue") {
		t.Errorf("readers.example.com online: %+v", readers)
	}
	if strings.Contains(r.stdout+r.stderr, hubPW) || strings.Contains(r.stdout+r.stderr, readerOnlyPW) {
		t.Error("doctor printed a secret value")
	}

	// --policy: the base credentials may read ghcr-pull and assume secrets-reader, which may
	// read the Docker Hub secret; an ACR entry's identity gets its token call.
	e.config(secretsConfig + "  - domains: [registry.example.com]\n    instanceId: " + teamID + "\n    regionId: cn-beijing\n")
	before := len(e.fc.Calls())
	r = e.run("", "doctor", "--policy", "--json", "ghcr.io", "docker.io", "registry.example.com")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var pols []struct {
		Identity string
		Hosts    []string
		Policy   struct {
			Version   string
			Statement []struct {
				Effect           string
				Action, Resource []string
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &pols); err != nil || len(pols) != 2 {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	// Each policy as "action=resource,resource" lines, in the document's order.
	got := map[string][]string{}
	for _, p := range pols {
		for _, st := range p.Policy.Statement {
			if st.Effect != "Allow" {
				t.Errorf("%s: %+v", p.Identity, st)
			}
			got[p.Identity] = append(got[p.Identity], strings.Join(st.Action, "+")+"="+strings.Join(st.Resource, ","))
		}
	}
	want := map[string][]string{
		"base credentials: environment AccessKey": {
			"cr:GetAuthorizationToken=acs:cr:cn-beijing:*:instance/" + teamID + ",acs:cr:cn-beijing:*:repository/" + teamID,
			"cr:PullRepository=acs:cr:cn-beijing:*:instance/" + teamID + ",acs:cr:cn-beijing:*:repository/" + teamID + "/*",
			"sts:AssumeRole=" + secretsReader,
			"kms:GetSecretValue=acs:kms:cn-hangzhou:*:secret/ghcr-pull",
		},
		"role " + secretsReader: {"kms:GetSecretValue=" + hubARN},
	}
	for id, w := range want {
		if strings.Join(got[id], "\n") != strings.Join(w, "\n") {
			t.Errorf("policy of %s:\n%s\nwant\n%s", id, strings.Join(got[id], "\n"), strings.Join(w, "\n"))
		}
	}
	if pols[0].Identity != "base credentials: environment AccessKey" || strings.Join(pols[0].Hosts, " ") != "ghcr.io docker.io registry.example.com" ||
		strings.Join(pols[1].Hosts, " ") != "docker.io" {
		t.Errorf("identities %+v", pols)
	}
	// Without --json: the documents as RAM takes them, which identity on stderr.
	r = e.run("", "doctor", "--policy", "docker.io")
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var docs int
	for dec.More() {
		var d struct{ Version string }
		if err := dec.Decode(&d); err != nil || d.Version != "1" {
			t.Fatalf("stdout is not policy documents: %v %q", err, r.stdout)
		}
		docs++
	}
	if r.code != 0 || docs != 2 || !strings.Contains(r.stderr, "policy 2 of 2: for role "+secretsReader+" (serves docker.io)") || !strings.Contains(r.stderr, "kms:Decrypt") {
		t.Errorf("doctor --policy docker.io: %d documents, %+v", docs, r)
	}
	if n := len(e.fc.Calls()); n != before {
		t.Errorf("doctor --policy made %d calls", n-before)
	}
}

// No secret value reaches stderr (at debug level, with the SDK's debug on), stdout other than
// the protocol answer, or any file but the 0600 cache entries.
func TestSecretsValuesNeverLeak(t *testing.T) {
	e := newSecretsEnv(t)
	e.vars["DOCKER_CREDENTIAL_ACR_LOG_LEVEL"] = "debug"
	e.vars["DEBUG"] = "tea,dara,credential,sdk"
	e.vars["DOCKER_CONFIG"] = filepath.Join(e.home, "docker")
	values := []string{ghcrPW, hubPW, hubPW2, notLoginValue, binaryValue, cmkPW, readerOnlyPW}
	runs := [][]string{
		{"ghcr.io", "get"}, {"https://index.docker.io/v1/", "get"}, {"ghcr.io", "get"}, {"", "list"},
		{"not-login.example.com", "get"}, {"binary.example.com", "get"}, {"cmk.example.com", "get"}, {"readers.example.com", "get"},
		{"", "doctor", "--online", "ghcr.io", "docker.io", "not-login.example.com", "binary.example.com"},
		{"", "doctor", "--online", "--json", "ghcr.io", "docker.io"}, {"", "doctor", "--policy", "ghcr.io", "docker.io"},
		{"", "configure-docker"}, {"", "print-kubelet-config"},
	}
	for _, run := range runs {
		r := e.run(run[0], run[1:]...)
		for _, v := range values {
			if strings.Contains(r.stderr, v) {
				t.Errorf("%q: stderr holds a secret value %.8s…: %s", run, v, r.stderr)
			}
			if strings.Contains(r.stdout, v) && !(run[1] == "get" && strings.Contains(r.stdout, `"Secret":"`+v+`"`)) {
				t.Errorf("%q: stdout holds a secret value %.8s… outside the answer", run, v)
			}
		}
		if run[1] == "get" && strings.HasPrefix(run[0], "ghcr") && !strings.Contains(r.stderr, "debug: registry login from a KMS secret") {
			t.Errorf("%q: no debug line naming the identity: %s", run, r.stderr)
		}
	}
	if _, _, err := e.runKubelet(t, "docker.io/library/nginx"); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(e.home, "cache", "docker-credential-acr")
	holders := 0
	err := filepath.WalkDir(e.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range values {
			if !bytes.Contains(b, []byte(v)) {
				continue
			}
			fi, _ := d.Info()
			if filepath.Dir(path) != cacheDir || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s (mode %v) holds a secret value %.8s…", path, fi.Mode(), v)
			}
			holders++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if holders != 2 {
		t.Errorf("%d cache files hold a login, want 2 (GHCR and Docker Hub)", holders)
	}
}

// The README's KMS section is a contract: its config, and what `doctor --policy docker.io`
// prints for it.
func TestSecretsREADMESection(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(data), "\n## Other registries from KMS Secrets Manager\n")
	if !ok {
		t.Fatal("no KMS section in the README")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	block := func(lang string, n int) string {
		parts := strings.Split(sec, "```"+lang+"\n")
		if len(parts) <= n {
			t.Fatalf("no %s block %d", lang, n)
		}
		b, _, _ := strings.Cut(parts[n], "```")
		lines := strings.Split(b, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(l, "   ")
		}
		return strings.Join(lines, "\n")
	}
	e := newEnv(t)
	e.config(block("yaml", 1))
	r := e.run("", "doctor", "--policy", "docker.io")
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var docs []json.RawMessage
	for dec.More() {
		var d json.RawMessage
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%v: %q", err, r.stdout)
		}
		docs = append(docs, d)
	}
	var want, got any
	if err := json.Unmarshal([]byte(block("json", 2)), &want); err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || len(docs) != 2 || json.Unmarshal(docs[1], &got) != nil {
		t.Fatalf("%+v", r)
	}
	if a, b := mustJSON(got), mustJSON(want); a != b {
		t.Errorf("doctor --policy docker.io prints\n%s\nthe README shows\n%s", a, b)
	}
	if !strings.Contains(string(docs[0]), "acs:ram::222222222222:role/secrets-reader") || !strings.Contains(r.stderr, "kms:Decrypt") {
		t.Errorf("first document %s; stderr %s", docs[0], r.stderr)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
