package credhelper

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"github.com/docker-credential-acr/docker-credential-acr/secrets/kms"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

// The kubelet tests' parts of the shared world (testdata/world.json): the node pulls as user
// dev of account main; Enterprise images are instance corp's (cn-hangzhou); per-workload identity
// uses the roles puller-a, puller-b and ack-puller, whose service-account tokens the world
// registers with its RRSA provider.
var (
	kAccount     = theWorld.Account("main")
	kNodeAK      = theWorld.User("dev").AccessKeyID
	kNodeSecret  = theWorld.User("dev").AccessKeySecret
	kInstanceID  = theWorld.Instance("corp").ID
	kProviderARN = theWorld.OIDCToken("puller-a").ProviderARN
)

// kubeletEnv is the whole environment a kubelet test's Keychain sees (Config.Getenv): a private
// HOME, no metadata service, no CLI profile, and the extra variables given. The process
// environment is neither read nor changed.
func kubeletEnv(t testing.TB, extra map[string]string) *testEnv {
	e := &testEnv{m: map[string]string{
		"HOME":                                t.TempDir(),
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
		"ALIBABA_CLOUD_CLI_PROFILE_DISABLED":  "true",
	}}
	for k, v := range extra {
		e.m[k] = v
	}
	return e
}

// testEnv is an environment a test may change while Keychains read it.
type testEnv struct {
	mu sync.Mutex
	m  map[string]string
}

func (e *testEnv) getenv(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.m[k]
}

func (e *testEnv) setenv(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[k] = v
}

func (e *testEnv) unsetenv(k string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, k)
}

// saToken is a token shaped like a kubelet-issued service-account token (the fake does not
// verify signatures; it accepts the tokens registered with AddOIDCToken).
func saToken(ns, name string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "kid": "test"}) + "." +
		enc(map[string]any{"aud": []string{"sts.aliyuncs.com"}, "sub": "system:serviceaccount:" + ns + ":" + name,
			"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]string{"name": name}}}) +
		"." + base64.RawURLEncoding.EncodeToString([]byte("signature-of-"+ns+"-"+name))
}

// saTokenN is the n-th token the kubelet issues for one service account: new claims (iat, jti,
// the pod) and a new signature each time, the same subject.
func saTokenN(ns, name, uid string, n int) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	sa := map[string]string{"name": name}
	if uid != "" {
		sa["uid"] = uid
	}
	return enc(map[string]string{"alg": "RS256", "kid": "test"}) + "." +
		enc(map[string]any{"aud": []string{"sts.aliyuncs.com"}, "sub": "system:serviceaccount:" + ns + ":" + name,
			"iss": "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee", "iat": 1893452400 + n, "jti": fmt.Sprintf("jti-%d", n),
			"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": sa, "pod": map[string]string{"name": fmt.Sprintf("app-%d", n)}}}) +
		"." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("signature-%d-of-%s-%s", n, ns, name)))
}

type kubeletWorld struct {
	fc        *fakecloud.Server
	env       *testEnv // the Keychain's environment
	k         *keychain.Keychain
	log       *syncBuffer
	roleA     string
	roleB     string
	tokenA    string // team-a/puller, trusted by roleA
	tokenB    string // team-b/puller, trusted by roleB
	tokenACK  string // team-c/builder, trusted by role "ack-puller" (named by ACK's annotation)
	roleACK   string
	challenge *httptest.Server
	cacheDir  string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newKubeletWorld(t *testing.T) *kubeletWorld {
	t.Helper()
	fc, world := testkit.StartFake(t)
	w := &kubeletWorld{fc: fc, log: &syncBuffer{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w.roleA, w.roleB, w.roleACK = world.Role("puller-a").ARN(), world.Role("puller-b").ARN(), world.Role("ack-puller").ARN()
	w.tokenA, w.tokenB, w.tokenACK = world.OIDCToken("puller-a").Token, world.OIDCToken("puller-b").Token, world.OIDCToken("ack-puller").Token
	w.challenge = httptest.NewServer(fakecloud.Challenge("cn-hangzhou", "china:"+kInstanceID))
	t.Cleanup(w.challenge.Close)

	w.env = kubeletEnv(t, map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     kNodeAK,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": kNodeSecret,
		kubeletapi.EnvOIDCProviderARN:     kProviderARN,
	})

	w.cacheDir = t.TempDir()
	store, err := cache.Open(w.cacheDir)
	must(err)
	logger, err := NewLogger(w.log, "debug")
	must(err)
	w.k = &keychain.Keychain{
		Config: &config.Config{
			Endpoints:         config.Endpoints{CR: w.fc.URL(), STS: w.fc.URL()},
			ExpiringThreshold: 15 * time.Minute,
			Timeout:           20 * time.Second,
			Getenv:            w.env.getenv,
		},
		Cache:        store,
		Log:          logger,
		DMIDir:       t.TempDir(),
		ChallengeURL: func(string) string { return w.challenge.URL + "/v2/" },
		KMS:          kms.New,
	}
	return w
}

func kubeletRequest(version, image string, extra map[string]any) string {
	m := map[string]any{"apiVersion": "credentialprovider.kubelet.k8s.io/" + version, "kind": "CredentialProviderRequest", "image": image}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// run serves one request and decodes the answer strictly.
func (w *kubeletWorld) run(t *testing.T, req string) (kubeletapi.Response, error) {
	t.Helper()
	var out bytes.Buffer
	err := Kubelet(context.Background(), w.k, strings.NewReader(req), &out)
	if err != nil {
		if out.Len() != 0 {
			t.Errorf("an error (%v) but the answer was written too: %q", err, out.String())
		}
		return kubeletapi.Response{}, err
	}
	return decodeResponseStrict(t, out.Bytes()), nil
}

func decodeResponseStrict(t *testing.T, data []byte) kubeletapi.Response {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\n")) || bytes.Count(data, []byte("\n")) != 1 {
		t.Errorf("answer is not one line: %q", data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r kubeletapi.Response
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("answer %q: %v", data, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for k := range raw {
		switch k {
		case "apiVersion", "kind", "cacheKeyType", "cacheDuration", "auth":
		default:
			t.Errorf("answer has field %q", k)
		}
	}
	return r
}

func TestKubeletNodeIdentity(t *testing.T) {
	w := newKubeletWorld(t)
	tests := []struct {
		name, version, image, key string
		edition                   string // of the issued token
	}{
		{"v1 personal", "v1", "registry.cn-hangzhou.aliyuncs.com/acme/app:1.4.2", "registry.cn-hangzhou.aliyuncs.com", "personal"},
		{"v1beta1 personal vpc digest", "v1beta1", "registry-vpc.cn-hangzhou.aliyuncs.com/acme/app@sha256:" + strings.Repeat("ab", 32), "registry-vpc.cn-hangzhou.aliyuncs.com", "personal"},
		{"v1alpha1 personal intl", "v1alpha1", "registry-intl.cn-hangzhou.aliyuncs.com/acme/app", "registry-intl.cn-hangzhou.aliyuncs.com", "personal"},
		{"v1 enterprise", "v1", "corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3", "corp-registry.cn-hangzhou.cr.aliyuncs.com", "enterprise"},
		{"v1beta1 enterprise vpc", "v1beta1", "corp-registry-vpc.cn-hangzhou.cr.aliyuncs.com/team/app:3", "corp-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "enterprise"},
		{"v1alpha1 enterprise p2p port", "v1alpha1", "corp-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/team/app:3", "corp-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001", "enterprise"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			r, err := w.run(t, kubeletRequest(tc.version, tc.image, nil))
			if err != nil {
				t.Fatal(err)
			}
			if want := "credentialprovider.kubelet.k8s.io/" + tc.version; r.APIVersion != want {
				t.Errorf("apiVersion %q, want %q", r.APIVersion, want)
			}
			if r.Kind != "CredentialProviderResponse" || r.CacheKeyType != "Registry" {
				t.Errorf("kind %q cacheKeyType %q", r.Kind, r.CacheKeyType)
			}
			if len(r.Auth) != 1 {
				t.Fatalf("auth %v, want one key %s", r.Auth, tc.key)
			}
			a, ok := r.Auth[tc.key]
			if !ok {
				t.Fatalf("auth keys %v, want %s", r.Auth, tc.key)
			}
			var issued *fakecloud.IssuedToken
			for _, it := range w.fc.IssuedTokens() {
				if it.Token == a.Password {
					issued = &it
				}
			}
			if issued == nil {
				t.Fatalf("the password is no token the fake issued")
			}
			if a.Username != issued.Username || issued.Edition != tc.edition || issued.AccessKeyID != kNodeAK {
				t.Errorf("username %q, issued %+v", a.Username, *issued)
			}
			if tc.edition == "enterprise" && issued.InstanceID != kInstanceID {
				t.Errorf("token of instance %q", issued.InstanceID)
			}
			d, err := time.ParseDuration(r.CacheDuration)
			if err != nil {
				t.Fatalf("cacheDuration %q: %v", r.CacheDuration, err)
			}
			want := issued.ExpiresAt.Sub(before) - 15*time.Minute
			if d > want || d < want-5*time.Second || d%time.Second != 0 {
				t.Errorf("cacheDuration %v, want about %v in whole seconds", d, want)
			}
		})
	}
	if strings.Contains(w.log.String(), kNodeSecret) {
		t.Error("the log shows the AccessKey secret")
	}
	for _, it := range w.fc.IssuedTokens() {
		if strings.Contains(w.log.String(), it.Token) {
			t.Error("the log shows a registry token")
		}
	}
}

func TestKubeletNoCredentials(t *testing.T) {
	w := newKubeletWorld(t)
	w.k.Logins = &memLogins{m: map[string][2]string{
		"crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com": {"alice", "stored-password"},
	}}
	for _, image := range []string{
		"nginx", "nginx:1.27", "library/nginx", "someone/app:1", "docker.io/library/nginx", "index.docker.io/library/nginx:1",
		"gcr.io/project/app:1", "localhost:5000/app", "localhost/app", "127.0.0.1:5000/app", "[::1]:5000/app",
		"registry.cn-hangzhou.aliyuncs.com.evil.example/acme/app", "evil.example/registry.cn-hangzhou.aliyuncs.com/app",
		"https://registry.cn-hangzhou.aliyuncs.com/acme/app", "user:pass@registry.cn-hangzhou.aliyuncs.com/acme/app",
		"REGISTRY.CN-HANGZHOU.ALIYUNCS.COM.evil.example/x", "crpi-nostored00000001.cn-hangzhou.personal.cr.aliyuncs.com/acme/app",
		"registry.cn-hangzhou.aliyuncs.com", // no path: a Docker Hub name
	} {
		for _, v := range []string{"v1", "v1beta1", "v1alpha1"} {
			r, err := w.run(t, kubeletRequest(v, image, nil))
			if err != nil {
				t.Errorf("%s %s: %v", v, image, err)
				continue
			}
			if r.Auth != nil || r.CacheKeyType != "Registry" || r.CacheDuration != "0s" || r.APIVersion != "credentialprovider.kubelet.k8s.io/"+v {
				t.Errorf("%s %s: %+v, want no auth, Registry, 0s", v, image, r)
			}
		}
	}
	if n := len(w.fc.Calls()); n != 0 {
		t.Errorf("%d API calls for images that are not ACR's: %+v", n, w.fc.Calls())
	}
	if !strings.Contains(w.log.String(), "docker login crpi-nostored00000001") {
		t.Errorf("no hint for the crpi- instance without stored login in the log:\n%s", w.log.String())
	}

	// A stored `docker login` answers, without expiry: the kubelet's default duration applies.
	r, err := w.run(t, kubeletRequest("v1", "crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com/acme/app:1", nil))
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Auth["crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com"]; a.Username != "alice" || a.Password != "stored-password" || r.CacheDuration != "" || len(r.Auth) != 1 {
		t.Errorf("stored login: %+v", r)
	}

	// No credentials at all on this machine: no auth, and a hint on stderr.
	w.env.unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
	r, err = w.run(t, kubeletRequest("v1", "registry.cn-shanghai.aliyuncs.com/acme/app", nil))
	if err != nil || r.Auth != nil || r.CacheDuration != "0s" {
		t.Errorf("no credentials: %+v, %v", r, err)
	}
	if !strings.Contains(w.log.String(), "no Alibaba Cloud credentials found") {
		t.Errorf("no hint in the log:\n%s", w.log.String())
	}
}

type memLogins struct{ m map[string][2]string }

func (l *memLogins) Get(host string) (string, string, bool) {
	v, ok := l.m[host]
	return v[0], v[1], ok
}

func (l *memLogins) Put(host, u, s string) error { l.m[host] = [2]string{u, s}; return nil }

func (l *memLogins) Delete(host string) (bool, error) {
	_, ok := l.m[host]
	delete(l.m, host)
	return ok, nil
}

func (l *memLogins) List() (map[string]string, error) {
	out := map[string]string{}
	for h, v := range l.m {
		out[h] = v[0]
	}
	return out, nil
}

func TestKubeletTokenError(t *testing.T) {
	w := newKubeletWorld(t)
	w.fc.InjectPersistent(fakecloud.ActionPersonalToken, fakecloud.FaultAPIError(403, "NoPermission", "You are not authorized to do this action."))
	_, err := w.run(t, kubeletRequest("v1", "registry.cn-beijing.aliyuncs.com/acme/app:1", nil))
	var te *keychain.TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error %T %v, want a *keychain.TokenError", err, err)
	}
	if strings.Contains(err.Error(), kNodeSecret) || !strings.Contains(err.Error(), "registry.cn-beijing.aliyuncs.com") {
		t.Errorf("error: %v", err)
	}
}

// A request the plugin refuses gets an error and no answer at all; the wire-level cases are
// kubeletapi's (TestReadRequestMalformed).
func TestKubeletMalformed(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ"
	k := &keychain.Keychain{Config: &config.Config{ExpiringThreshold: 15 * time.Minute, Endpoints: config.Endpoints{CR: "http://127.0.0.1:1", STS: "http://127.0.0.1:1"}, Getenv: kubeletEnv(t, nil).getenv}, DMIDir: t.TempDir()}
	for _, in := range []string{
		"", "null", "registry.cn-hangzhou.aliyuncs.com\n",
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/a/b","serviceAccountToken":"` + token + `"}`,
		kubeletRequest("v1", "registry.cn-hangzhou.aliyuncs.com/a/b", nil) + kubeletRequest("v1", "a.example/b", nil),
		kubeletRequest("v1", "registry.cn-hangzhou.aliyuncs.com/a/b c", nil),
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/a/b"` + strings.Repeat(" ", kubeletapi.MaxInput) + "}",
	} {
		var out bytes.Buffer
		err := Kubelet(context.Background(), k, strings.NewReader(in), &out)
		var re *kubeletapi.RequestError
		if !errors.As(err, &re) {
			t.Errorf("%.60q: error %T %v, want a *kubeletapi.RequestError", in, err, err)
		} else if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("the error shows the token: %v", err)
		}
		if out.Len() != 0 {
			t.Errorf("%.60q: wrote %q", in, out.String())
		}
	}

	// Unknown fields (a newer kubelet) are ignored.
	var out bytes.Buffer
	in := kubeletRequest("v1", "docker.io/library/nginx", map[string]any{"somethingNew": map[string]int{"a": 1}, "metadata": nil})
	if err := Kubelet(context.Background(), k, strings.NewReader(in), &out); err != nil || out.Len() == 0 {
		t.Errorf("unknown fields: %v", err)
	}
}

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestKubeletBoundedRead(t *testing.T) {
	k := &keychain.Keychain{Config: &config.Config{Getenv: kubeletEnv(t, nil).getenv}, DMIDir: t.TempDir()}

	// A stream that never ends is cut at the limit.
	start := time.Now()
	err := Kubelet(context.Background(), k, endless{}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "larger than") || time.Since(start) > 10*time.Second {
		t.Errorf("endless stdin: %v after %v", err, time.Since(start))
	}

	// Stdin that never closes: the deadline ends the wait.
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go pw.Write([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1",`))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = Kubelet(ctx, k, pr, io.Discard)
	var re *kubeletapi.RequestError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "did not end in time") || time.Since(start) > 5*time.Second {
		t.Errorf("open stdin: %v after %v", err, time.Since(start))
	}

	// A failing reader.
	err = Kubelet(context.Background(), k, io.MultiReader(strings.NewReader("{"), iotestErrReader{}), io.Discard)
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "reading stdin") {
		t.Errorf("failing stdin: %v", err)
	}

	// A failing writer.
	err = Kubelet(context.Background(), k, strings.NewReader(kubeletRequest("v1", "nginx", nil)), failWriter{})
	if err == nil || !strings.Contains(err.Error(), "writing the answer") {
		t.Errorf("failing stdout: %v", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestKubeletCacheDuration(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		exp       time.Time
		threshold time.Duration
		want      string
	}{
		{time.Time{}, 15 * time.Minute, ""},
		{now.Add(time.Hour), 15 * time.Minute, "45m0s"},
		{now.Add(time.Hour + 999*time.Millisecond), 15 * time.Minute, "45m0s"},
		{now.Add(59*time.Minute + 59500*time.Millisecond), 15 * time.Minute, "44m59s"},
		{now.Add(16 * time.Minute), 15 * time.Minute, "1m0s"},
		{now.Add(15 * time.Minute), 15 * time.Minute, "0s"},
		{now.Add(10 * time.Minute), 15 * time.Minute, "0s"},
		{now.Add(time.Hour), 0, "1h0m0s"},
		{now.Add(12 * time.Hour), 0, "12h0m0s"},
		{now.Add(12*time.Hour + 15*time.Minute), 15 * time.Minute, "12h0m0s"},
		{now.Add(13 * time.Hour), 15 * time.Minute, "12h0m0s"},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 15 * time.Minute, "12h0m0s"},
		{time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), 15 * time.Minute, "0s"},
		{now.Add(-time.Hour), 0, "0s"},
		{now.Add(-time.Hour), -time.Hour, "0s"},
	} {
		if got := kubeletCacheDuration(keychain.Login{ExpiresAt: tc.exp}, now, tc.threshold); got != tc.want {
			t.Errorf("expires %v, threshold %v: %q, want %q", tc.exp.Sub(now), tc.threshold, got, tc.want)
		}
	}
}

// FuzzKubeletRequest: no input makes the plugin panic, hang, write a partial answer, or answer
// what it should have refused; answers are valid responses in the request's apiVersion.
func FuzzKubeletRequest(f *testing.F) {
	files, _ := filepath.Glob(testkit.Path("kubelet", "requests", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "null", "{}", "[]", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/a/b","serviceAccountToken":"x.y.z"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/a/b","serviceAccountToken":"x.y.z","serviceAccountAnnotations":{"pod-identity.alibabacloud.com/role-name":"r"}}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","kind":"CredentialProviderRequest","image":"[::1]:5000/a"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderRequest","image":"a-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/x"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"crpi-x.cn-hangzhou.personal.cr.aliyuncs.com/a"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"\u0000/x"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"a/b","image":"registry.cn-hangzhou.aliyuncs.com/x"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/x"} {}`,
	} {
		f.Add([]byte(s))
	}
	// No credentials anywhere and unreachable loopback endpoints: nothing leaves the machine.
	k := &keychain.Keychain{Config: &config.Config{ExpiringThreshold: 15 * time.Minute, Endpoints: config.Endpoints{CR: "http://127.0.0.1:1", STS: "http://127.0.0.1:1"}, Getenv: kubeletEnv(f, nil).getenv}, DMIDir: f.TempDir()}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := Kubelet(ctx, k, bytes.NewReader(data), &out)
		req, derr := kubeletapi.DecodeRequest(data)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("error %v and an answer %q", err, out.String())
			}
			var re *kubeletapi.RequestError
			var we *workloadIdentityError
			if !errors.As(err, &re) && !errors.As(err, &we) {
				t.Fatalf("unexpected error %T: %v", err, err)
			}
			if errors.As(err, &re) != (derr != nil) && len(data) <= kubeletapi.MaxInput {
				t.Fatalf("Kubelet says %v, DecodeKubeletRequest says %v", err, derr)
			}
			if req.ServiceAccountToken != "" && len(req.ServiceAccountToken) > 8 && strings.Contains(err.Error(), req.ServiceAccountToken) {
				t.Fatalf("the error shows the token: %v", err)
			}
			return
		}
		if derr != nil {
			t.Fatalf("answered a request DecodeKubeletRequest refuses (%v)", derr)
		}
		r := decodeResponseStrict(t, out.Bytes())
		if r.APIVersion != req.APIVersion || r.Kind != "CredentialProviderResponse" || r.CacheKeyType != "Registry" || r.Auth != nil || r.CacheDuration != "0s" {
			t.Fatalf("answer %+v to %+v", r, req)
		}
		switch req.APIVersion {
		case kubeletapi.APIVersionV1, kubeletapi.APIVersionV1beta1, kubeletapi.APIVersionV1alpha1:
		default:
			t.Fatalf("accepted apiVersion %q", req.APIVersion)
		}
		if req.Kind != "CredentialProviderRequest" || req.Image == "" {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// Issue 11, finding 6: an absurd expiry from the API is not passed on to the kubelet: at most
// maxKubeletCacheDuration. (The fake's lifetime is a Duration: 292 years is the most it holds;
// TestKubeletCacheDuration has the year 9999.)
func TestKubeletAbsurdExpiry(t *testing.T) {
	w := newKubeletWorld(t)
	w.fc.SetTokenLifetime(time.Duration(math.MaxInt64))
	r, err := w.run(t, kubeletRequest("v1", "registry.cn-hangzhou.aliyuncs.com/acme/app:1", nil))
	if err != nil {
		t.Fatal(err)
	}
	// The keychain keeps the token at most maxTokenLife (12h); the kubelet may keep it until the
	// helper would refresh it, so a little less, and never more than 12h.
	d, derr := time.ParseDuration(r.CacheDuration)
	if len(r.Auth) != 1 || derr != nil || d <= 11*time.Hour || d > maxKubeletCacheDuration {
		t.Errorf("answer %+v, want one login with cacheDuration in (11h, 12h]", r)
	}
	if it := w.fc.IssuedTokens(); len(it) != 1 || it[0].ExpiresAt.Year() < 2200 {
		t.Fatalf("the fake issued %+v", it)
	}
}

// The kubelet compares ports exactly: an image written host:443/... is served, keyed as written.
func TestKubeletExplicitPort443(t *testing.T) {
	w := newKubeletWorld(t)
	for _, host := range []string{"registry.cn-hangzhou.aliyuncs.com:443", "corp-registry.cn-hangzhou.cr.aliyuncs.com:443"} {
		r, err := w.run(t, kubeletRequest("v1", host+"/acme/app:1", nil))
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := r.Auth[host]; !ok || len(r.Auth) != 1 || a.Password == "" {
			t.Errorf("%s: %+v, want a login keyed %s", host, r, host)
		}
	}
}
