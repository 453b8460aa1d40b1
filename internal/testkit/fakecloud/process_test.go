package fakecloud_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func TestChallenge(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct{ region, suffix, want string }{
		{"cn-hangzhou", "26842", `Bearer realm="https://dockerauth.cn-hangzhou.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-hangzhou:26842"`},
		{"cn-shanghai", "china:cri-abc", `Bearer realm="https://dockerauth.cn-shanghai.aliyuncs.com/auth",service="registry.aliyuncs.com:cn-shanghai:china:cri-abc"`},
	} {
		srv := httptest.NewServer(fakecloud.Challenge(tc.region, tc.suffix))
		resp, err := http.Get(srv.URL + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != tc.want {
			t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp, err = http.Get(srv.URL + "/other")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("other path: %d", resp.StatusCode)
		}
		srv.Close()
	}
}

func TestScenarioFile(t *testing.T) {
	cleanEnv(t)
	sc, err := fakecloud.LoadScenario(testkit.Path("world.json"))
	if err != nil {
		t.Fatal(err)
	}
	fc := fakecloud.New()
	if err := fc.Apply(sc); err != nil {
		t.Fatal(err)
	}
	if err := fc.Start(); err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	if len(sc.Users) != len(world.Users) || len(sc.Instances) != len(world.Instances) || len(sc.Accounts) != 2 {
		t.Fatalf("scenario %+v", sc)
	}
	body, err := personalToken(crClient(t, config(fc, userAK, userSK, "")))
	if err != nil {
		t.Fatal(err)
	}
	if body["data"].(map[string]any)["authorizationToken"] != world.FixedToken("") {
		t.Fatalf("body %v", body)
	}
	res, err := enterpriseToken(crClient(t, config(fc, userAK, userSK, "")), instID)
	if err != nil || tea.StringValue(res.Body.AuthorizationToken) != world.FixedToken(instID) {
		t.Fatalf("%v %v", res, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"users":[],"bogus":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fakecloud.LoadScenario(bad); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("no go tool to build cmd/fakecloud")
	}
	return p
}

// TestCommand builds cmd/fakecloud, runs it as a process and drives it like a shell test would.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fakecloud")
	// Built before the environment is scrubbed: the go tool finds its build and module caches
	// through HOME, and a scrubbed HOME would make every run a cold build.
	build := exec.Command(goTool(t), "build", "-tags", "fakecloud", "-o", bin, "./cmd/fakecloud")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cleanEnv(t)
	callsFile, caFile, authCert := filepath.Join(dir, "calls.jsonl"), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "dockerauth.pem")
	// The world plus one challenge variant served by Host.
	scenario := filepath.Join(dir, "scenario.json")
	w := testkit.Load()
	w.Challenges = fakecloud.Challenges{"registry.aliyuncs.com": fakecloud.RegionlessRegistryChallenge()}
	b, err := json.Marshal(w.Scenario)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scenario, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-scenario", scenario, "-calls", callsFile,
		"-tls", "-ca-file", caFile, "-challenge-region", "cn-hangzhou", "-challenge-suffix", "china:"+instID, "-dockerauth-cert", authCert)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	lines := map[string]string{}
	for _, want := range []string{"listening", "metadata-proxy", "tls", "challenge", "dockerauth"} {
		if !sc.Scan() {
			t.Fatalf("no %s line: %v", want, sc.Err())
		}
		k, v, _ := strings.Cut(sc.Text(), " ")
		if k != want || !strings.Contains(v, "://127.0.0.1:") {
			t.Fatalf("line %q, want %s", sc.Text(), want)
		}
		lines[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	endpoint := strings.TrimPrefix(lines["listening"], "http://")

	// Personal token with the world's user.
	c := configAt(endpoint, userAK, userSK, "")
	body, err := personalToken(crClient(t, c))
	if err != nil || body["data"].(map[string]any)["authorizationToken"] != world.FixedToken("") {
		t.Fatalf("%v %v", body, err)
	}
	// The same over TLS, trusting the written certificate.
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	c.Endpoint, c.Protocol, c.Ca = tea.String(strings.TrimPrefix(lines["tls"], "https://")), tea.String("https"), tea.String(string(pem))
	if _, err := enterpriseToken(crClient(t, c), instID); err != nil {
		t.Fatal(err)
	}
	// The metadata proxy.
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "")
	p, err := providers.NewECSRAMRoleCredentialsProviderBuilder().
		WithHttpOptions(&providers.HttpOptions{Proxy: lines["metadata-proxy"], ConnectTimeout: 60000, ReadTimeout: 60000}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if cc, err := p.GetCredentials(); err != nil || !strings.HasPrefix(cc.AccessKeyId, "STS.") {
		t.Fatalf("%v %v", cc, err)
	}
	// The challenge.
	resp, err := http.Get(lines["challenge"] + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `service="registry.aliyuncs.com:cn-hangzhou:china:`+instID+`"`) {
		t.Fatalf("challenge %q", resp.Header.Get("WWW-Authenticate"))
	}
	// The scenario's challenge, by Host.
	req, err := http.NewRequest("GET", lines["challenge"]+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "registry.aliyuncs.com"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || got != fakecloud.RegionlessRegistryChallenge().Header() {
		t.Fatalf("registry.aliyuncs.com challenge %d %q", resp.StatusCode, got)
	}
	// The token server: the login handed out above opens instance instID's service, and the
	// token verifies with the written certificate.
	q := url.Values{"service": {"registry.aliyuncs.com:cn-hangzhou:china:" + instID}, "scope": {"repository:ns/app:pull"}}
	req, err = http.NewRequest("GET", lines["dockerauth"]+"/auth?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("cr_temp_user", world.FixedToken(instID))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	certPEM, _ := os.ReadFile(authCert)
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("dockerauth: %d %v", resp.StatusCode, err)
	}
	if _, claims := verifyJWT(t, certPEM, answer.Token); claims["aud"] != q.Get("service") {
		t.Fatalf("dockerauth claims %v", claims)
	}
	// What a shell test would look at.
	get := func(path string) string {
		resp, err := http.Get(lines["listening"] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := strings.TrimSpace(get("/_fake/count?action=" + fakecloud.ActionPersonalToken)); got != "1" {
		t.Fatalf("count %q", got)
	}
	var tokens []fakecloud.IssuedToken
	if err := json.Unmarshal([]byte(get("/_fake/tokens")), &tokens); err != nil || len(tokens) != 2 {
		t.Fatalf("tokens %v %v", tokens, err)
	}
	var calls []fakecloud.Call
	if err := json.Unmarshal([]byte(get("/_fake/calls?action=GetAuthorizationToken")), &calls); err != nil || len(calls) != 2 {
		t.Fatalf("calls %v %v", calls, err)
	}

	// SIGTERM stops it.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(time.Minute): // only stops a hung test; a loaded machine may be slow to exit
		t.Fatal("still running after SIGTERM")
	}
	log, err := os.ReadFile(callsFile)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		var c fakecloud.Call
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("call log line %q: %v", line, err)
		}
		if c.Action == "GetAuthorizationToken" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d token calls in the call log", n)
	}
}

// credentials-go's STS providers only speak https and trust only the system roots; a child
// process with SSL_CERT_FILE pointing at the fake's certificate runs them against StartTLS.
func TestCredentialsGoOverTLS(t *testing.T) {
	fc := newWorld(t)
	if err := fc.StartTLS(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, tokenFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "token")
	if err := os.WriteFile(caFile, fc.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(oidcToken), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCredentialsGo$", "-test.v")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "SSL_CERT_FILE=" + caFile,
		"FAKECLOUD_HELPER=1", "FAKECLOUD_STS=" + fc.TLSEndpoint(), "FAKECLOUD_TOKEN_FILE=" + tokenFile,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	oidc := lastCall(t, fc, "AssumeRoleWithOIDC")
	if oidc.Status != 200 || oidc.Style != "Anonymous" || oidc.Params["OIDCToken"] != oidcToken {
		t.Fatalf("oidc call %+v\n%s", oidc, out)
	}
	ar := lastCall(t, fc, "AssumeRole")
	if ar.Status != 200 || ar.Style != "RPC-HMAC-SHA1" || ar.AccessKeyID != userAK {
		t.Fatalf("assume role call %+v\n%s", ar, out)
	}
	if !strings.Contains(string(out), "OIDC STS.") || !strings.Contains(string(out), "RAMROLE STS.") {
		t.Fatalf("helper output:\n%s", out)
	}
}

func TestHelperCredentialsGo(t *testing.T) {
	if os.Getenv("FAKECLOUD_HELPER") != "1" {
		t.Skip("helper process for TestCredentialsGoOverTLS")
	}
	endpoint := os.Getenv("FAKECLOUD_STS")
	op, err := providers.NewOIDCCredentialsProviderBuilder().
		WithOIDCProviderARN(providerARN).WithRoleArn(rrsaARN).WithOIDCTokenFilePath(os.Getenv("FAKECLOUD_TOKEN_FILE")).
		WithRoleSessionName("pod").WithSTSEndpoint(endpoint).Build()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := op.GetCredentials()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("OIDC", cc.AccessKeyId)
	static, err := providers.NewStaticAKCredentialsProviderBuilder().WithAccessKeyId(userAK).WithAccessKeySecret(userSK).Build()
	if err != nil {
		t.Fatal(err)
	}
	rp, err := providers.NewRAMRoleARNCredentialsProviderBuilder().WithCredentialsProvider(static).
		WithRoleArn(pullerARN).WithRoleSessionName("ci").WithStsEndpoint(endpoint).Build()
	if err != nil {
		t.Fatal(err)
	}
	cc, err = rp.GetCredentials()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("RAMROLE", cc.AccessKeyId)
}
