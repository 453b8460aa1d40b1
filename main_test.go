package main

// End-to-end tests of the built binary, driven as docker drives it: through
// docker-credential-helpers/client, which runs `docker-credential-acr <action>` with the
// request on stdin. Everything talks to a loopback fake of the Alibaba Cloud API; any HTTPS the
// helper attempts on its own (the registry challenge) goes through a loopback proxy that refuses.

import (
	"bytes"
	"encoding/json"
	"io"
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

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/netns"
)

var helperBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dca-e2e-")
	if err != nil {
		panic(err)
	}
	helperBin = filepath.Join(dir, "docker-credential-acr")
	build := exec.Command("go", "build", "-o", helperBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building the helper: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The shared test world (testdata/world.json): these pick its parts.
var (
	world   = testkit.Load()
	acct    = world.Account("main")
	acctB   = world.Account("partner")
	ak      = world.User("dev").AccessKeyID
	sk      = world.User("dev").AccessKeySecret
	nopwAK  = world.User("nopw").AccessKeyID
	nopwSK  = world.User("nopw").AccessKeySecret
	teamID  = world.Instance("team").ID // cn-beijing, custom domain registry.example.com
	crossID = world.Instance("cross").ID
)

// refusingProxy stands in for the internet: it records CONNECT targets and refuses them all.
type refusingProxy struct {
	mu      sync.Mutex
	targets []string
}

func (p *refusingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.targets = append(p.targets, r.Host)
	p.mu.Unlock()
	http.Error(w, "no internet in tests", http.StatusForbidden)
}

type env struct {
	t     *testing.T
	fc    *fakecloud.Server
	proxy *refusingProxy
	home  string
	vars  map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testkit.ScrubEnv(t)
	fc, _ := testkit.StartFake(t)
	p := &refusingProxy{}
	ps := httptest.NewServer(p)
	t.Cleanup(ps.Close)
	home := t.TempDir()
	vars, _ := testkit.ChildEnv(home)
	for k, v := range map[string]string{
		"HTTPS_PROXY":                       ps.URL,
		"DOCKER_CREDENTIAL_ACR_CR_ENDPOINT": "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_STS_ENDPOINT":        "http://" + fc.Endpoint(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID":       ak,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET":   sk,
	} {
		vars[k] = v
	}
	return &env{t: t, fc: fc, proxy: p, home: home, vars: vars}
}

func (e *env) config(yaml string) {
	p := filepath.Join(e.home, "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.vars["DOCKER_CREDENTIAL_ACR_CONFIG"] = p
}

func (e *env) environ() []string { return testkit.Environ(e.vars) }

// result is one run of the helper binary.
type result struct {
	stdout, stderr string
	code           int // exit code; -1 if it did not exit normally
	took           time.Duration
}

// run runs the helper with args and stdin in this environment.
func (e *env) run(stdin string, args ...string) result {
	cmd := exec.Command(helperBin, args...)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(t0)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		r.code = -1
	}
	return r
}

const notFound = "credentials not found in native keychain"

// program runs the helper as docker does, with exactly this environment.
func (e *env) program() client.ProgramFunc {
	return func(args ...string) client.Program {
		cmd := exec.Command(helperBin, args...)
		cmd.Env = e.environ()
		return &recorder{cmd: cmd}
	}
}

var stderrs struct {
	sync.Mutex
	last string
}

type recorder struct{ cmd *exec.Cmd }

func (r *recorder) Input(in io.Reader) { r.cmd.Stdin = in }
func (r *recorder) Output() ([]byte, error) {
	var errb bytes.Buffer
	r.cmd.Stderr = &errb
	out, err := r.cmd.Output()
	stderrs.Lock()
	stderrs.last = errb.String()
	stderrs.Unlock()
	return out, err
}

func lastStderr() string {
	stderrs.Lock()
	defer stderrs.Unlock()
	return stderrs.last
}

func (e *env) get(host string) (*credentials.Credentials, error) {
	return client.Get(e.program(), host)
}

func TestE2EPersonalAndCache(t *testing.T) {
	e := newEnv(t)
	c, err := e.get("registry.cn-hangzhou.aliyuncs.com")
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, lastStderr())
	}
	toks := e.fc.IssuedTokens()
	if len(toks) != 1 || c.Username != "cr_temp_user" || c.Secret != toks[0].Token || c.ServerURL != "registry.cn-hangzhou.aliyuncs.com" {
		t.Fatalf("got %+v, issued %+v", c, toks)
	}
	// Clients send other forms; the answer's ServerURL is the input, trimmed.
	for _, h := range []string{"https://registry.cn-hangzhou.aliyuncs.com", "REGISTRY-VPC.cn-hangzhou.aliyuncs.com:443"} {
		c2, err := e.get(h)
		if err != nil || c2.Secret != c.Secret || c2.ServerURL != h {
			t.Errorf("%s: %+v %v", h, c2, err)
		}
	}
	if n := e.fc.Count("GetAuthorizationToken"); n != 1 {
		t.Errorf("token calls = %d, want 1 (the rest from the cache)", n)
	}
	// The cache files are private.
	dir := filepath.Join(e.home, "cache", "docker-credential-acr")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v %v", fi.Mode(), err)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if fi, _ := f.Info(); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f.Name(), fi.Mode())
		}
		b, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		if bytes.Contains(b, []byte(sk)) {
			t.Errorf("%s holds the AccessKey secret", f.Name())
		}
	}
}

func TestE2EEnterpriseDefaultDomainNoConfig(t *testing.T) {
	e := newEnv(t)
	c, err := e.get("team-registry.cn-beijing.cr.aliyuncs.com")
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, lastStderr())
	}
	if toks := e.fc.IssuedTokens(); len(toks) != 1 || toks[0].InstanceID != teamID || c.Secret != toks[0].Token {
		t.Fatalf("issued %+v", toks)
	}
	if e.fc.Count("ListInstance") != 1 {
		t.Errorf("ListInstance calls %d", e.fc.Count("ListInstance"))
	}
	// The challenge was tried through the proxy, and nothing else was.
	e.proxy.mu.Lock()
	defer e.proxy.mu.Unlock()
	for _, target := range e.proxy.targets {
		if target != "team-registry.cn-beijing.cr.aliyuncs.com:443" {
			t.Errorf("unexpected outbound connection to %s", target)
		}
	}
}

// customAndCrossConfig names a custom domain of teamID, and crossID behind ArnService → ArnUser.
var customAndCrossConfig = `
registries:
  - domains: [registry.example.com]
    instanceId: ` + teamID + `
    regionId: cn-beijing
  - domains: [cross.example.com]
    instanceId: ` + crossID + `
    regionId: cn-shanghai
    arnService: acs:ram::` + acct + `:role/role-assume
    arnUser: acs:ram::` + acctB + `:role/role-acr
`

func TestE2ECustomDomainAndCrossAccount(t *testing.T) {
	e := newEnv(t)
	e.config(customAndCrossConfig)
	if _, err := e.get("registry.example.com"); err != nil {
		t.Fatalf("custom domain: %v; stderr %s", err, lastStderr())
	}
	c, err := e.get("cross.example.com")
	if err != nil {
		t.Fatalf("cross account: %v; stderr %s", err, lastStderr())
	}
	toks := e.fc.IssuedTokens()
	last := toks[len(toks)-1]
	if last.InstanceID != crossID || !strings.Contains(last.Principal, acctB+":assumed-role/role-acr/") || c.Secret != last.Token {
		t.Errorf("cross-account token %+v", last)
	}
	if e.fc.Count("AssumeRole") != 2 {
		t.Errorf("AssumeRole calls %d", e.fc.Count("AssumeRole"))
	}
	// Not listed: not found, no call.
	before := len(e.fc.Calls())
	if _, err := e.get("other.example.com"); !credentials.IsErrCredentialsNotFound(err) {
		t.Errorf("unlisted: %v", err)
	}
	if len(e.fc.Calls()) != before {
		t.Error("API call for an unlisted host")
	}
}

// The ECS RAM role, from a fake metadata service on the real address in a network namespace of
// the test's own; every proxy variable points at a recording proxy, which must see nothing
// (issue 11 finding 2).
func TestE2EECSRoleDirectNeverThroughProxy(t *testing.T) {
	if !netns.Enter(t) {
		return
	}
	e := newEnv(t)
	if err := e.fc.SetECSRole(world.Role("ecs-node").ARN()); err != nil {
		t.Fatal(err)
	}
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	delete(e.vars, "ALIBABA_CLOUD_ECS_METADATA_DISABLED")
	e.vars["ALIBABA_CLOUD_ECS_METADATA"] = "ecs-node"
	proxied := e.metadataOnRealAddress()
	c, err := e.get("registry.cn-hangzhou.aliyuncs.com")
	if err != nil {
		t.Fatalf("%v; stderr %s", err, lastStderr())
	}
	toks := e.fc.IssuedTokens()
	if len(toks) != 1 || !strings.Contains(toks[0].Principal, "assumed-role/ecs-node/") || c.Secret != toks[0].Token {
		t.Errorf("issued %+v", toks)
	}
	if p := proxied(); len(p) != 0 {
		t.Errorf("the proxy saw %v: the metadata service must be reached directly", p)
	}
	if e.fc.Count(fakecloud.MetadataCredentials) == 0 {
		t.Error("the metadata service was not asked")
	}
}

func TestE2EStoreGetListErase(t *testing.T) {
	e := newEnv(t)
	host := "crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com"
	if _, err := e.get(host); !credentials.IsErrCredentialsNotFound(err) || !strings.Contains(lastStderr(), "docker login") {
		t.Fatalf("before login: %v; stderr %q", err, lastStderr())
	}
	if err := client.Store(e.program(), &credentials.Credentials{ServerURL: host, Username: "me@example", Secret: "fixed-password-1"}); err != nil {
		t.Fatal(err)
	}
	c, err := e.get(host)
	if err != nil || c.Username != "me@example" || c.Secret != "fixed-password-1" {
		t.Fatalf("after login: %+v %v", c, err)
	}
	if _, err := e.get("registry.cn-hangzhou.aliyuncs.com"); err != nil {
		t.Fatal(err)
	}
	list, err := client.List(e.program())
	if err != nil || list[host] != "me@example" || list["registry.cn-hangzhou.aliyuncs.com"] != "cr_temp_user" {
		t.Fatalf("list %v %v", list, err)
	}
	data := filepath.Join(e.home, "data", "docker-credential-acr")
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir %v %v", fi, err)
	}
	for _, h := range []string{host, "registry.cn-hangzhou.aliyuncs.com"} {
		if err := client.Erase(e.program(), h); err != nil {
			t.Fatal(err)
		}
	}
	list, _ = client.List(e.program())
	if len(list) != 0 {
		t.Errorf("after erase: %v", list)
	}
	if _, err := e.get(host); !credentials.IsErrCredentialsNotFound(err) {
		t.Errorf("after erase: %v", err)
	}
	// Bad JSON to store: a clear error, nothing stored.
	if r := e.run(`{"ServerURL": "x.example.com", "Username":`, "store"); r.code != 1 || !strings.Contains(r.stdout, "not the JSON docker sends") {
		t.Errorf("bad JSON: %+v", r)
	}
	if list, _ := client.List(e.program()); len(list) != 0 {
		t.Errorf("bad JSON stored something: %v", list)
	}
}

func TestE2ENoCredentialsIsFastNotFound(t *testing.T) {
	e := newEnv(t)
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(e.vars, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	delete(e.vars, "ALIBABA_CLOUD_ECS_METADATA_DISABLED") // off ECS the helper must skip the metadata service by itself
	r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != notFound {
		t.Fatalf("%+v", r)
	}
	// No credentials is how a machine without an account works: not a warning (the README
	// promises a stderr line only for token failures); the hint is there at info level.
	if r.stderr != "" {
		t.Errorf("stderr at the default level: %q", r.stderr)
	}
	e.vars["DOCKER_CREDENTIAL_ACR_LOG_LEVEL"] = "info"
	if r := e.run("registry.cn-hangzhou.aliyuncs.com", "get"); !strings.Contains(r.stderr, "ALIBABA_CLOUD_ECS_METADATA") {
		t.Errorf("stderr hint at info level: %q", r.stderr)
	}
	t.Logf("not-found answer in %v", r.took) // measured in benchmarks, not asserted here
	if len(e.fc.Calls()) != 0 {
		t.Error("API calls without credentials")
	}
}

func TestE2EErrorsDefaultAndStrict(t *testing.T) {
	e := newEnv(t)
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_ID"] = nopwAK
	e.vars["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = nopwSK
	r := e.run("registry.cn-hangzhou.aliyuncs.com\n", "get")
	if r.code != 1 || strings.TrimSpace(r.stdout) != notFound {
		t.Errorf("default: %+v", r)
	}
	if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 1 || !strings.Contains(r.stderr, "USER_NOT_EXIST") {
		t.Errorf("default: want one clear stderr line, got %q", r.stderr)
	}
	e.vars["DOCKER_CREDENTIAL_ACR_STRICT"] = "1"
	r = e.run("registry.cn-hangzhou.aliyuncs.com\n", "get")
	if r.code != 1 || !strings.Contains(r.stdout, "USER_NOT_EXIST") || !strings.Contains(r.stdout, "registry password") {
		t.Errorf("strict: %+v", r)
	}
}

func TestE2EStdoutIsOnlyTheAnswerEvenWithSDKDebug(t *testing.T) {
	e := newEnv(t)
	e.vars["DEBUG"] = "tea,dara,credential,sdk"
	e.vars["DOCKER_CREDENTIAL_ACR_LOG_LEVEL"] = "debug"
	r := e.run("registry.cn-hangzhou.aliyuncs.com", "get")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var c credentials.Credentials
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&c); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON answer: %q", r.stdout)
	}
	if strings.Contains(r.stderr, sk) || strings.Contains(r.stderr, c.Secret) {
		t.Errorf("stderr holds a secret: %q", r.stderr)
	}
}

// Bad input: each gets the stated answer, with no API call, no panic and no hang.
func TestE2EBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, stdin string
		args        []string
		wantOut     string // substring of stdout
	}{
		{"empty", "", []string{"get"}, "no credentials server URL"},
		{"whitespace", "  \n\t ", []string{"get"}, "no credentials server URL"},
		{"10 MB", strings.Repeat("a", 10<<20), []string{"get"}, "larger than"},
		{"unknown command", "", []string{"frobnicate"}, "unknown command"},
		{"bad JSON to store", "{", []string{"store"}, "not the JSON docker sends"},
		{"store for a non-host", `{"ServerURL":"a b","Username":"u","Secret":"s"}`, []string{"store"}, "not a registry host"},
	}
	// The shared look-alikes and malformed hosts (testdata/hostile/hosts.json).
	for _, h := range testkit.HostileHosts() {
		tests = append(tests, struct {
			name, stdin string
			args        []string
			wantOut     string
		}{h.Name, h.Input, []string{"get"}, notFound})
	}
	for _, tt := range tests {
		r := e.run(tt.stdin, tt.args...)
		if r.code != 1 || !strings.Contains(r.stdout, tt.wantOut) || strings.Contains(r.stdout, `"Secret":"`) || strings.Contains(r.stderr, "panic") {
			t.Errorf("%s: exit %d, stdout %.120q, stderr %.120q; want exit 1 and %q", tt.name, r.code, r.stdout, r.stderr, tt.wantOut)
		}
	}
	if n := len(e.fc.Calls()); n != 0 {
		t.Errorf("%d API calls for bad input", n)
	}
}

// docker logout of one host removes the token its region shares with the other hosts.
func TestE2EEraseSharedToken(t *testing.T) {
	e := newEnv(t)
	if _, err := e.get("registry.cn-hangzhou.aliyuncs.com"); err != nil {
		t.Fatal(err)
	}
	if err := client.Erase(e.program(), "registry-vpc.cn-hangzhou.aliyuncs.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.get("registry.cn-hangzhou.aliyuncs.com"); err != nil {
		t.Fatal(err)
	}
	if n := e.fc.Count("GetAuthorizationToken"); n != 2 {
		t.Errorf("token calls %d, want 2: erase did not remove the shared token", n)
	}
}

// The kubelet runs the binary as acr-credential-provider with a CredentialProviderRequest.
func TestE2EKubeletPlugin(t *testing.T) {
	e := newEnv(t)
	plugin := filepath.Join(t.TempDir(), "acr-credential-provider")
	if err := os.Symlink(helperBin, plugin); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v1beta1", "v1alpha1"} {
		cmd := exec.Command(plugin)
		cmd.Env = e.environ()
		cmd.Stdin = strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/` + v + `","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/ns/app:1.0"}`)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v: %s", v, err, stderr.String())
		}
		var resp struct {
			APIVersion    string `json:"apiVersion"`
			Kind          string `json:"kind"`
			CacheKeyType  string `json:"cacheKeyType"`
			CacheDuration string `json:"cacheDuration"`
			Auth          map[string]struct{ Username, Password string }
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: %q", v, out)
		}
		a := resp.Auth["registry.cn-hangzhou.aliyuncs.com"]
		toks := e.fc.IssuedTokens()
		if resp.APIVersion != "credentialprovider.kubelet.k8s.io/"+v || resp.Kind != "CredentialProviderResponse" || resp.CacheKeyType != "Registry" ||
			a.Username != "cr_temp_user" || a.Password != toks[len(toks)-1].Token {
			t.Errorf("%s: %+v", v, resp)
		}
		if d, err := time.ParseDuration(resp.CacheDuration); err != nil || d < 40*time.Minute || d > 45*time.Minute {
			t.Errorf("%s: cacheDuration %q, want the token's remaining life minus 15m", v, resp.CacheDuration)
		}
	}
	// A malformed request: non-zero exit, message on stderr, nothing on stdout.
	cmd := exec.Command(plugin)
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest"}`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil || len(out) != 0 || !strings.Contains(stderr.String(), "image") {
		t.Errorf("malformed: err %v stdout %q stderr %q", err, out, stderr.String())
	}
}

// configure-docker edits docker's config.json in place, keeping everything else; it works with
// --registries even when the helper's own config file is broken.
func TestE2EConfigureDocker(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	e.vars["DOCKER_CONFIG"] = dir
	orig := testkit.ReadFile("dockerconfig", "other-helpers.json") // other settings, another helper
	if err := os.WriteFile(filepath.Join(dir, "config.json"), orig, 0o640); err != nil {
		t.Fatal(err)
	}
	e.config("registries: [\n") // broken
	r := e.run("", "configure-docker", "--registries", "registry.cn-hangzhou.aliyuncs.com,team-registry.cn-beijing.cr.aliyuncs.com")
	if r.code != 0 || !strings.Contains(r.stdout, "added registry.cn-hangzhou.aliyuncs.com") {
		t.Fatalf("%+v", r)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ch := doc["credHelpers"].(map[string]any)
	if ch["gcr.io"] != "gcloud" || ch["registry.cn-hangzhou.aliyuncs.com"] != "acr" || ch["team-registry.cn-beijing.cr.aliyuncs.com"] != "acr" || !bytes.Contains(b, []byte(`"n": 2.50`)) {
		t.Errorf("config.json now:\n%s", b)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "config.json")); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	// Without --registries the hosts come from the helper's config, which must then be valid.
	if r := e.run("", "configure-docker"); r.code == 0 {
		t.Errorf("a broken helper config went unnoticed: %+v", r)
	}
}
