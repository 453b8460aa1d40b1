package credhelper

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

const (
	kAccount     = "1234567890123456"
	kNodeAK      = "LTAI5tNodeKeyForKubeletTests"
	kNodeSecret  = "node-secret-must-never-be-printed"
	kInstanceID  = "cri-kubelet0000000001"
	kProviderARN = "acs:ram::" + kAccount + ":oidc-provider/ack-rrsa-kubelet-test"
)

// kubeletEnv isolates a test from the machine: no Alibaba Cloud or helper settings, no
// proxies, a private HOME, no metadata service, no CLI profile.
func kubeletEnv(t testing.TB) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		upper := strings.ToUpper(name)
		if strings.HasPrefix(upper, "ALIBABA_CLOUD_") || strings.HasPrefix(upper, "DOCKER_CREDENTIAL_ACR_") ||
			strings.HasPrefix(upper, "XDG_") || upper == "HTTP_PROXY" || upper == "HTTPS_PROXY" ||
			upper == "ALL_PROXY" || upper == "NO_PROXY" || upper == "DEBUG" || upper == "DOCKER_CONFIG" {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
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

type kubeletWorld struct {
	fc        *fakecloud.Server
	k         *Keychain
	log       *syncBuffer
	roleA     string
	roleB     string
	tokenA    string // team-a/puller, trusted by roleA
	tokenB    string // team-b/puller, trusted by roleB
	tokenACK  string // team-c/builder, trusted by role "ack-puller" (named by ACK's annotation)
	roleACK   string
	challenge *httptest.Server
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
	kubeletEnv(t)
	w := &kubeletWorld{fc: fakecloud.New(), log: &syncBuffer{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.fc.AddUser(fakecloud.User{AccountID: kAccount, Name: "node", AccessKeyID: kNodeAK, AccessKeySecret: kNodeSecret, RegistryPassword: true}))
	must(w.fc.AddInstance(fakecloud.Instance{AccountID: kAccount, ID: kInstanceID, Name: "acme", Region: "cn-hangzhou"}))
	roleA, roleB, roleACK := fakecloud.Role{AccountID: kAccount, Name: "puller-a"}, fakecloud.Role{AccountID: kAccount, Name: "puller-b"}, fakecloud.Role{AccountID: kAccount, Name: "ack-puller"}
	must(w.fc.AddRole(roleA))
	must(w.fc.AddRole(roleB))
	must(w.fc.AddRole(roleACK))
	w.roleA, w.roleB, w.roleACK = roleA.ARN(), roleB.ARN(), roleACK.ARN()
	w.tokenA, w.tokenB, w.tokenACK = saToken("team-a", "puller"), saToken("team-b", "puller"), saToken("team-c", "builder")
	must(w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: kProviderARN, RoleARN: w.roleA, Token: w.tokenA, Subject: "system:serviceaccount:team-a:puller"}))
	must(w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: kProviderARN, RoleARN: w.roleB, Token: w.tokenB, Subject: "system:serviceaccount:team-b:puller"}))
	must(w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: kProviderARN, RoleARN: w.roleACK, Token: w.tokenACK, Subject: "system:serviceaccount:team-c:builder"}))
	must(w.fc.Start())
	t.Cleanup(w.fc.Close)
	w.challenge = httptest.NewServer(fakecloud.Challenge("cn-hangzhou", "china:"+kInstanceID))
	t.Cleanup(w.challenge.Close)

	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", kNodeAK)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", kNodeSecret)
	t.Setenv(EnvOIDCProviderARN, kProviderARN)

	store, err := cache.Open(t.TempDir())
	must(err)
	logger, err := NewLogger(w.log, "debug")
	must(err)
	w.k = &Keychain{
		Config: &config.Config{
			Endpoints:         config.Endpoints{CR: w.fc.URL(), STS: w.fc.URL()},
			ExpiringThreshold: 15 * time.Minute,
			Timeout:           20 * time.Second,
		},
		Cache:        store,
		Log:          logger,
		DMIDir:       t.TempDir(),
		ChallengeURL: func(string) string { return w.challenge.URL + "/v2/" },
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
func (w *kubeletWorld) run(t *testing.T, req string) (KubeletResponse, error) {
	t.Helper()
	var out bytes.Buffer
	err := Kubelet(context.Background(), w.k, strings.NewReader(req), &out)
	if err != nil {
		if out.Len() != 0 {
			t.Errorf("an error (%v) but the answer was written too: %q", err, out.String())
		}
		return KubeletResponse{}, err
	}
	return decodeResponseStrict(t, out.Bytes()), nil
}

func decodeResponseStrict(t *testing.T, data []byte) KubeletResponse {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\n")) || bytes.Count(data, []byte("\n")) != 1 {
		t.Errorf("answer is not one line: %q", data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r KubeletResponse
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
		{"v1 enterprise", "v1", "acme-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3", "acme-registry.cn-hangzhou.cr.aliyuncs.com", "enterprise"},
		{"v1beta1 enterprise vpc", "v1beta1", "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/team/app:3", "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "enterprise"},
		{"v1alpha1 enterprise p2p port", "v1alpha1", "acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/team/app:3", "acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001", "enterprise"},
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
	os.Unsetenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
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

func saRequest(image, token string, ann map[string]string) string {
	return kubeletRequest("v1", image, map[string]any{"serviceAccountToken": token, "serviceAccountAnnotations": ann})
}

func TestKubeletServiceAccount(t *testing.T) {
	w := newKubeletWorld(t)
	const image = "acme-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3"
	const host = "acme-registry.cn-hangzhou.cr.aliyuncs.com"
	annA := map[string]string{AnnotationRoleARN: w.roleA, "unrelated.example.com/x": "y"}
	annB := map[string]string{AnnotationRoleARN: w.roleB}

	rA, err := w.run(t, saRequest(image, w.tokenA, annA))
	if err != nil {
		t.Fatal(err)
	}
	rB, err := w.run(t, saRequest(image, w.tokenB, annB))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.fc.Count("AssumeRoleWithOIDC"); got != 2 {
		t.Errorf("%d AssumeRoleWithOIDC calls, want 2", got)
	}
	if rA.Auth[host].Password == "" || rA.Auth[host].Password == rB.Auth[host].Password {
		t.Fatalf("two service accounts, answers %v and %v", rA.Auth, rB.Auth)
	}

	// Which key signed each token request, and who that was: the STS key AssumeRoleWithOIDC
	// issued for the service account's role, never the node's AccessKey.
	principals := map[string]string{}
	for _, c := range w.fc.Calls() {
		if c.Action == "AssumeRoleWithOIDC" {
			if c.Style != "Anonymous" || c.AccessKeyID != "" {
				t.Errorf("AssumeRoleWithOIDC was signed (%s, %q)", c.Style, c.AccessKeyID)
			}
			if c.Params["OIDCProviderArn"] != kProviderARN {
				t.Errorf("OIDCProviderArn %q", c.Params["OIDCProviderArn"])
			}
			principals[c.Params["RoleArn"]] = c.Params["RoleSessionName"]
		}
		if c.Action == "GetAuthorizationToken" && c.AccessKeyID == kNodeAK {
			t.Errorf("a token request of a workload was signed with the node's AccessKey: %+v", c)
		}
	}
	if principals[w.roleA] != "k8s.team-a.puller" || principals[w.roleB] != "k8s.team-b.puller" {
		t.Errorf("sessions %v", principals)
	}
	for _, tc := range []struct {
		password, role, session string
	}{{rA.Auth[host].Password, "puller-a", "k8s.team-a.puller"}, {rB.Auth[host].Password, "puller-b", "k8s.team-b.puller"}} {
		var issued *fakecloud.IssuedToken
		for _, it := range w.fc.IssuedTokens() {
			if it.Token == tc.password {
				issued = &it
			}
		}
		if issued == nil {
			t.Fatal("the password is no token the fake issued")
		}
		want := "acs:ram::" + kAccount + ":assumed-role/" + tc.role + "/" + tc.session
		if !strings.HasPrefix(issued.AccessKeyID, "STS.") || issued.Principal != want || issued.InstanceID != kInstanceID {
			t.Errorf("token issued to %s with %s, want %s with an STS key", issued.Principal, issued.AccessKeyID, want)
		}
		var signed bool
		for _, c := range w.fc.Calls() {
			if c.Action == "GetAuthorizationToken" && c.AccessKeyID == issued.AccessKeyID && c.Principal == want {
				signed = true
			}
		}
		if !signed {
			t.Errorf("no GetAuthorizationToken call signed by %s", issued.AccessKeyID)
		}
	}

	// The same service account again: served from the helper's cache, no new STS call.
	rA2, err := w.run(t, saRequest(image, w.tokenA, annA))
	if err != nil {
		t.Fatal(err)
	}
	if rA2.Auth[host] != rA.Auth[host] || w.fc.Count("AssumeRoleWithOIDC") != 2 {
		t.Errorf("second request of team-a: %v (%d AssumeRoleWithOIDC calls)", rA2.Auth, w.fc.Count("AssumeRoleWithOIDC"))
	}

	// The node, and each service account, have their own cache keys.
	reg, err := acr.Parse(host)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for name, req := range map[string]KubeletRequest{
		"team-a":        {ServiceAccountToken: w.tokenA, ServiceAccountAnnotations: annA},
		"team-b":        {ServiceAccountToken: w.tokenB, ServiceAccountAnnotations: annB},
		"team-a role b": {ServiceAccountToken: w.tokenA, ServiceAccountAnnotations: annB},
		"node":          {},
	} {
		kc := w.k
		if req.ServiceAccountToken != "" {
			if kc, err = w.k.forWorkload(req); err != nil {
				t.Fatal(err)
			}
		}
		p, err := kc.Plan(context.Background(), reg)
		if err != nil {
			t.Fatal(err)
		}
		for other, key := range keys {
			if key == p.Key {
				t.Errorf("%s and %s share the cache key", name, other)
			}
		}
		keys[name] = p.Key
	}

	// A workload never gets the node's stored `docker login` credentials.
	w.k.Logins = &memLogins{m: map[string][2]string{"crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com": {"node", "node-password"}}}
	r, err := w.run(t, saRequest("crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com/acme/app", w.tokenA, annA))
	if err != nil || r.Auth != nil {
		t.Errorf("a workload got the node's stored login: %+v, %v", r, err)
	}
	w.k.Logins = nil

	// ACK's annotation names a role in the provider's account.
	r, err = w.run(t, saRequest("registry-vpc.cn-hangzhou.aliyuncs.com/acme/app:1", w.tokenACK, map[string]string{AnnotationACKRoleName: "ack-puller"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Auth) != 1 || r.Auth["registry-vpc.cn-hangzhou.aliyuncs.com"].Password == "" {
		t.Errorf("ACK annotation: %+v", r)
	}
	// Both annotations, naming the same role: fine.
	if _, err := w.run(t, saRequest("registry-vpc.cn-hangzhou.aliyuncs.com/acme/app:1", w.tokenACK, map[string]string{AnnotationACKRoleName: "ack-puller", AnnotationRoleARN: w.roleACK})); err != nil {
		t.Error(err)
	}

	// A service-account token with an image the helper does not serve: no auth, no error, even
	// without a role annotation.
	r, err = w.run(t, saRequest("docker.io/library/nginx:1", w.tokenA, nil))
	if err != nil || r.Auth != nil || r.CacheDuration != "0s" {
		t.Errorf("Docker Hub image with a token: %+v, %v", r, err)
	}
	r, err = w.run(t, saRequest("gcr.io/x/y:1", w.tokenA, nil))
	if err != nil || r.Auth != nil {
		t.Errorf("gcr.io image with a token: %+v, %v", r, err)
	}

	for _, secret := range []string{w.tokenA, w.tokenB, w.tokenACK, kNodeSecret} {
		if strings.Contains(w.log.String(), secret) {
			t.Error("the log shows a secret")
		}
	}
}

func TestKubeletServiceAccountErrors(t *testing.T) {
	w := newKubeletWorld(t)
	const image = "registry.cn-hangzhou.aliyuncs.com/acme/app:1"
	tests := []struct {
		name     string
		provider string // env; "-" unsets
		ann      map[string]string
		token    string
		want     string
		token401 bool // a *TokenError from STS rather than a *WorkloadIdentityError
	}{
		{"no annotation", kProviderARN, nil, w.tokenA, AnnotationRoleARN, false},
		{"unrelated annotations", kProviderARN, map[string]string{"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"}, w.tokenA, "names no RAM role", false},
		{"empty role", kProviderARN, map[string]string{AnnotationRoleARN: ""}, w.tokenA, "is not a RAM role ARN", false},
		{"bad role arn", kProviderARN, map[string]string{AnnotationRoleARN: "arn:aws:iam::123:role/x"}, w.tokenA, "is not a RAM role ARN", false},
		{"bad ack role name", kProviderARN, map[string]string{AnnotationACKRoleName: "a b"}, w.tokenA, "is not a RAM role name", false},
		{"two roles", kProviderARN, map[string]string{AnnotationRoleARN: w.roleA, AnnotationACKRoleName: "puller-b"}, w.tokenA, "two roles", false},
		{"no provider", "-", map[string]string{AnnotationRoleARN: w.roleA}, w.tokenA, EnvOIDCProviderARN, false},
		{"bad provider", "acs:ram::1:role/x", map[string]string{AnnotationRoleARN: w.roleA}, w.tokenA, "is not an OIDC provider ARN", false},
		{"token of another role", kProviderARN, map[string]string{AnnotationRoleARN: w.roleB}, w.tokenA, "AssumeRoleWithOIDC", true},
		{"unknown token", kProviderARN, map[string]string{AnnotationRoleARN: w.roleA}, saToken("evil", "forged"), "AssumeRoleWithOIDC", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.provider == "-" {
				os.Unsetenv(EnvOIDCProviderARN)
			} else {
				os.Setenv(EnvOIDCProviderARN, tc.provider)
			}
			_, err := w.run(t, saRequest(image, tc.token, tc.ann))
			if err == nil {
				t.Fatal("no error")
			}
			var we *WorkloadIdentityError
			var te *TokenError
			if tc.token401 && !errors.As(err, &te) || !tc.token401 && !errors.As(err, &we) {
				t.Errorf("error %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.token) || strings.Contains(err.Error(), strings.Split(tc.token, ".")[1]) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	os.Setenv(EnvOIDCProviderARN, kProviderARN)
	// The ALIBABA_CLOUD_ name works too.
	os.Unsetenv(EnvOIDCProviderARN)
	t.Setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", kProviderARN)
	if _, err := w.run(t, saRequest(image, w.tokenA, map[string]string{AnnotationRoleARN: w.roleA})); err != nil {
		t.Errorf("with ALIBABA_CLOUD_OIDC_PROVIDER_ARN: %v", err)
	}
	if strings.Contains(w.log.String(), w.tokenA) {
		t.Error("the log shows the token")
	}
}

func TestKubeletTokenError(t *testing.T) {
	w := newKubeletWorld(t)
	w.fc.InjectPersistent(fakecloud.ActionPersonalToken, fakecloud.FaultAPIError(403, "NoPermission", "You are not authorized to do this action."))
	_, err := w.run(t, kubeletRequest("v1", "registry.cn-beijing.aliyuncs.com/acme/app:1", nil))
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error %T %v, want a *TokenError", err, err)
	}
	if strings.Contains(err.Error(), kNodeSecret) || !strings.Contains(err.Error(), "registry.cn-beijing.aliyuncs.com") {
		t.Errorf("error: %v", err)
	}
}

func TestKubeletMalformed(t *testing.T) {
	kubeletEnv(t)
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2VjcmV0LXNpZ25hdHVyZQ"
	k := &Keychain{Config: &config.Config{ExpiringThreshold: 15 * time.Minute, Endpoints: config.Endpoints{CR: "http://127.0.0.1:1", STS: "http://127.0.0.1:1"}}, DMIDir: t.TempDir()}
	big := `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/a/b"` + strings.Repeat(" ", MaxKubeletInput) + "}"
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"blank", " \n\t", "empty input"},
		{"null", "null", "not a JSON object"},
		{"array", `[{"image":"x"}]`, "not a JSON object"},
		{"string", `"registry.cn-hangzhou.aliyuncs.com"`, "not a JSON object"},
		{"a docker get", "registry.cn-hangzhou.aliyuncs.com\n", "not valid JSON"},
		{"truncated", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Cred`, "not valid JSON"},
		{"two values", kubeletRequest("v1", "a.example/b", nil) + kubeletRequest("v1", "a.example/b", nil), "more than one JSON value"},
		{"trailing garbage", kubeletRequest("v1", "a.example/b", nil) + "x", "more than one JSON value"},
		{"no apiVersion", `{"kind":"CredentialProviderRequest","image":"a.example/b"}`, "no apiVersion"},
		{"apiVersion v1", `{"apiVersion":"v1","kind":"CredentialProviderRequest","image":"a.example/b"}`, "unsupported apiVersion"},
		{"apiVersion v2", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"a.example/b","serviceAccountToken":"` + token + `"}`, "unsupported apiVersion"},
		{"apiVersion upper", `{"apiVersion":"CredentialProvider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"a.example/b"}`, "unsupported apiVersion"},
		{"apiVersion number", `{"apiVersion":1,"kind":"CredentialProviderRequest","image":"a.example/b"}`, "apiVersion is not a string"},
		{"no kind", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a.example/b"}`, "no kind"},
		{"wrong kind", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","image":"a.example/b"}`, "want CredentialProviderRequest"},
		{"no image", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest"}`, "no image"},
		{"null image", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":null}`, "no image"},
		{"Image in another case", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","Image":"a.example/b"}`, "no image"},
		{"image number", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":5}`, "image is not a string"},
		{"image with space", kubeletRequest("v1", "a.example/b c", nil), "whitespace"},
		{"image with newline", kubeletRequest("v1", "a.example/b\nregistry.cn-hangzhou.aliyuncs.com/x", nil), "whitespace"},
		{"image too long", kubeletRequest("v1", "a.example/"+strings.Repeat("b", maxImageLen), nil), "longer than"},
		{"token not a string", kubeletRequest("v1", "a.example/b", map[string]any{"serviceAccountToken": []string{token}}), "serviceAccountToken is not a string"},
		{"annotations not a map", kubeletRequest("v1", "a.example/b", map[string]any{"serviceAccountAnnotations": []string{"x"}}), "serviceAccountAnnotations is not an object"},
		{"annotation not a string", kubeletRequest("v1", "a.example/b", map[string]any{"serviceAccountAnnotations": map[string]int{"x": 1}, "serviceAccountToken": token}), "serviceAccountAnnotations is not an object"},
		{"over 1 MiB", big, "larger than"},
		{"invalid UTF-8", "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"a.example/\xff\"}", "invalid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := Kubelet(context.Background(), k, strings.NewReader(tc.in), &out)
			var re *KubeletRequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v, want a *KubeletRequestError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("the error shows the token: %v", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q", out.String())
			}
		})
	}

	// Unknown fields (a newer kubelet) are ignored.
	var out bytes.Buffer
	in := kubeletRequest("v1", "docker.io/library/nginx", map[string]any{"somethingNew": map[string]int{"a": 1}, "metadata": nil})
	if err := Kubelet(context.Background(), k, strings.NewReader(in), &out); err != nil {
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
	kubeletEnv(t)
	k := &Keychain{Config: &config.Config{}, DMIDir: t.TempDir()}

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
	var re *KubeletRequestError
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
	} {
		if got := kubeletCacheDuration(Login{ExpiresAt: tc.exp}, now, tc.threshold); got != tc.want {
			t.Errorf("expires %v, threshold %v: %q, want %q", tc.exp.Sub(now), tc.threshold, got, tc.want)
		}
	}
}

func TestImageRegistry(t *testing.T) {
	for image, want := range map[string]string{
		"registry.cn-hangzhou.aliyuncs.com/ns/app:tag":                        "registry.cn-hangzhou.aliyuncs.com",
		"registry.cn-hangzhou.aliyuncs.com/ns/app@sha256:abc":                 "registry.cn-hangzhou.aliyuncs.com",
		"a-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/ns/app": "a-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
		"localhost/app":          "localhost",
		"localhost:5000/app":     "localhost:5000",
		"[::1]:5000/app":         "[::1]:5000",
		"Registry.Example.COM/a": "Registry.Example.COM",
		"nginx":                  "",
		"nginx:1.27":             "",
		"nginx@sha256:abc":       "",
		"library/nginx":          "",
		"user/app:1":             "",
		"/app":                   "",
		"":                       "",
		"registry.example.com":   "",
	} {
		got, ok := ImageRegistry(image)
		if got != want || ok != (want != "") {
			t.Errorf("ImageRegistry(%q) = %q, %v; want %q", image, got, ok, want)
		}
	}
}

// Every sample request decodes; the kubelettest module checks the same files against the
// upstream types.
func TestKubeletRequestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/kubelet/requests/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req, err := DecodeKubeletRequest(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !strings.HasPrefix(filepath.Base(f), strings.TrimPrefix(req.APIVersion, "credentialprovider.kubelet.k8s.io/")+"-") {
			t.Errorf("%s holds apiVersion %s", f, req.APIVersion)
		}
		if strings.Contains(f, "service-account") && (req.ServiceAccountToken == "" || len(req.ServiceAccountAnnotations) == 0 || serviceAccountOf(req.ServiceAccountToken) != "team-a/puller") {
			t.Errorf("%s: token for %q, annotations %v", f, serviceAccountOf(req.ServiceAccountToken), req.ServiceAccountAnnotations)
		}
	}
}

func TestServiceAccountOf(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for token, want := range map[string]string{
		saToken("team-a", "puller"):                                 "team-a/puller",
		saToken("kube-system", "a.b-c"):                             "kube-system/a.b-c",
		"x." + enc(`{"sub":"system:serviceaccount:ns:sa"}`) + ".y":  "ns/sa",
		"x." + enc(`{"sub":"system:serviceaccount:ns"}`) + ".y":     "",
		"x." + enc(`{"sub":"system:serviceaccount:Ns:sa"}`) + ".y":  "",
		"x." + enc(`{"sub":"system:serviceaccount:ns:s/a"}`) + ".y": "",
		"x." + enc(`{"sub":"user:alice"}`) + ".y":                   "",
		"x." + enc(`{"sub":5}`) + ".y":                              "",
		"x.!!!.y":                                                   "",
		"opaque-token":                                              "",
		"":                                                          "",
	} {
		if got := serviceAccountOf(token); got != want {
			t.Errorf("serviceAccountOf(%q) = %q, want %q", token, got, want)
		}
	}
	if s := sessionName("kube-system/" + strings.Repeat("a", 70)); len(s) > 64 || !strings.HasPrefix(s, "k8s.kube-system.aaa") {
		t.Errorf("long session name %q", s)
	}
	if s := sessionName(""); s != "docker-credential-acr-kubelet" {
		t.Errorf("session name %q", s)
	}
}

// matchImage is the kubelet's documented matchImages rule: same number of host labels, each
// label a glob (path.Match) of its pattern label, the same port, and the pattern's path a prefix
// of the image's.
func matchImage(pattern, image string) bool {
	pu, err1 := url.Parse("https://" + pattern)
	iu, err2 := url.Parse("https://" + image)
	if err1 != nil || err2 != nil || pu.Port() != iu.Port() || !strings.HasPrefix(iu.Path, pu.Path) {
		return false
	}
	pl, il := strings.Split(pu.Hostname(), "."), strings.Split(iu.Hostname(), ".")
	if len(pl) != len(il) {
		return false
	}
	for i := range pl {
		if ok, err := filepath.Match(pl[i], il[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func TestKubeletMatchImages(t *testing.T) {
	acrHosts := []string{
		"registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com",
		"registry-internal.cn-hangzhou.aliyuncs.com", "registry-intl.ap-southeast-1.aliyuncs.com",
		"registry-intl-vpc.ap-southeast-1.aliyuncs.com", "registry.cn-shanghai-finance-1.aliyuncs.com",
		"crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com", "crpi-abcdefgh12345678-vpc.cn-hangzhou.personal.cr.aliyuncs.com",
		"acme-registry.cn-hangzhou.cr.aliyuncs.com", "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
		"aworld-registry-registry-vpc.cn-beijing.cr.aliyuncs.com",
		"acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com", "acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
	}
	for _, h := range acrHosts {
		reg, err := acr.Parse(h)
		if err != nil || !reg.IsACR() {
			t.Errorf("%s is not ACR by acr.Parse: %v", h, err)
		}
		image := h + "/ns/app:1"
		matched := false
		for _, p := range KubeletMatchImages {
			matched = matched || matchImage(p, image)
		}
		if !matched {
			t.Errorf("no matchImages pattern matches %s", image)
		}
	}
	for _, image := range []string{
		"registry.cn-hangzhou.aliyuncs.com.evil.example/ns/app", "evil.example/registry.cn-hangzhou.aliyuncs.com/app",
		"docker.io/library/nginx", "nginx", "oss-cn-hangzhou.aliyuncs.com/x", "ecs.cn-hangzhou.aliyuncs.com/x",
		"registry.cn-hangzhou.aliyuncs.com:5000/ns/app", "acme-registry.cn-hangzhou.cr.aliyuncs.com:65001/ns/app",
	} {
		for _, p := range KubeletMatchImages {
			if matchImage(p, image) {
				t.Errorf("%s matches %s", p, image)
			}
		}
	}
	for _, p := range KubeletMatchImages {
		if err := checkMatchImage(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

type printedConfig struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Providers  []struct {
		Name                 string   `yaml:"name"`
		APIVersion           string   `yaml:"apiVersion"`
		Args                 []string `yaml:"args"`
		MatchImages          []string `yaml:"matchImages"`
		DefaultCacheDuration string   `yaml:"defaultCacheDuration"`
		TokenAttributes      *struct {
			ServiceAccountTokenAudience          string   `yaml:"serviceAccountTokenAudience"`
			CacheType                            string   `yaml:"cacheType"`
			RequireServiceAccount                *bool    `yaml:"requireServiceAccount"`
			RequiredServiceAccountAnnotationKeys []string `yaml:"requiredServiceAccountAnnotationKeys"`
		} `yaml:"tokenAttributes"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
	} `yaml:"providers"`
}

func printConfig(t *testing.T, opts KubeletConfigOptions) (string, printedConfig) {
	t.Helper()
	var b bytes.Buffer
	if err := PrintKubeletConfig(&b, opts); err != nil {
		t.Fatal(err)
	}
	var c printedConfig
	dec := yaml.NewDecoder(&b)
	dec.KnownFields(true)
	out := b.String()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(c.Providers) != 1 {
		t.Fatalf("%d providers", len(c.Providers))
	}
	return out, c
}

func TestPrintKubeletConfig(t *testing.T) {
	kubeletEnv(t)
	out, c := printConfig(t, KubeletConfigOptions{})
	p := c.Providers[0]
	if c.APIVersion != "kubelet.config.k8s.io/v1" || c.Kind != "CredentialProviderConfig" || p.Name != KubeletProviderName ||
		p.APIVersion != KubeletAPIVersionV1 || strings.Join(p.Args, " ") != "kubelet" || p.DefaultCacheDuration != "30m0s" ||
		p.TokenAttributes != nil || p.Env != nil || strings.Join(p.MatchImages, ",") != strings.Join(KubeletMatchImages, ",") {
		t.Errorf("default config:\n%s", out)
	}
	if strings.Contains(out, "request-serviceaccounts-token-audience") {
		t.Error("RBAC without service-account tokens")
	}

	_, c = printConfig(t, KubeletConfigOptions{Name: "docker-credential-acr", APIVersion: "v1beta1", DefaultCacheDuration: 5 * time.Minute,
		MatchImages: []string{"registry.example.com", " registry.example.com:5000/team ", "*.example.org", "registry.example.com"}})
	p = c.Providers[0]
	if c.APIVersion != "kubelet.config.k8s.io/v1beta1" || p.APIVersion != KubeletAPIVersionV1beta1 || p.Name != "docker-credential-acr" || p.DefaultCacheDuration != "5m0s" {
		t.Errorf("v1beta1 config: %+v", c)
	}
	if got := strings.Join(p.MatchImages[len(KubeletMatchImages):], ","); got != "registry.example.com,registry.example.com:5000/team,*.example.org" {
		t.Errorf("extra matchImages %s", got)
	}

	out, c = printConfig(t, KubeletConfigOptions{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN})
	p = c.Providers[0]
	ta := p.TokenAttributes
	if ta == nil || ta.ServiceAccountTokenAudience != "sts.aliyuncs.com" || ta.CacheType != "ServiceAccount" || ta.RequireServiceAccount == nil ||
		!*ta.RequireServiceAccount || strings.Join(ta.RequiredServiceAccountAnnotationKeys, ",") != AnnotationRoleARN ||
		len(p.Env) != 1 || p.Env[0].Name != EnvOIDCProviderARN || p.Env[0].Value != kProviderARN {
		t.Errorf("service-account config:\n%s", out)
	}
	// The commented RBAC is valid YAML naming the audience.
	_, rbac, ok := strings.Cut(out, "# "+kubeletRBACMarker+"\n")
	if !ok {
		t.Fatalf("no RBAC:\n%s", out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(rbac, "\n"), "\n") {
		if !strings.HasPrefix(l, "# ") {
			t.Fatalf("RBAC line %q is not commented", l)
		}
		lines = append(lines, strings.TrimPrefix(l, "# "))
	}
	dec := yaml.NewDecoder(strings.NewReader(strings.Join(lines, "\n")))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("RBAC: %v", err)
		}
		docs = append(docs, d)
	}
	if len(docs) != 2 || docs[0]["kind"] != "ClusterRole" || docs[1]["kind"] != "ClusterRoleBinding" ||
		!strings.Contains(fmt.Sprint(docs[0]["rules"]), "sts.aliyuncs.com") || !strings.Contains(fmt.Sprint(docs[1]["subjects"]), "system:nodes") {
		t.Errorf("RBAC: %v", docs)
	}

	_, c = printConfig(t, KubeletConfigOptions{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, Audience: "acr.example", RoleAnnotation: AnnotationACKRoleName})
	if ta := c.Providers[0].TokenAttributes; ta.ServiceAccountTokenAudience != "acr.example" || ta.RequiredServiceAccountAnnotationKeys[0] != AnnotationACKRoleName {
		t.Errorf("ACK annotation: %+v", ta)
	}

	for _, tc := range []struct {
		opts KubeletConfigOptions
		want string
	}{
		{KubeletConfigOptions{ServiceAccountTokens: true}, "--oidc-provider-arn"},
		{KubeletConfigOptions{ServiceAccountTokens: true, OIDCProviderARN: "acs:ram::1:role/x"}, "--oidc-provider-arn"},
		{KubeletConfigOptions{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, APIVersion: "v1beta1"}, "need apiVersion"},
		{KubeletConfigOptions{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, RoleAnnotation: "eks.amazonaws.com/role-arn"}, "--role-annotation"},
		{KubeletConfigOptions{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, Audience: "a b"}, "--audience"},
		{KubeletConfigOptions{APIVersion: "v2"}, "--api-version"},
		{KubeletConfigOptions{Name: "bin/acr"}, "--name"},
		{KubeletConfigOptions{Name: ".."}, "--name"},
		{KubeletConfigOptions{DefaultCacheDuration: -time.Second}, "negative"},
		{KubeletConfigOptions{MatchImages: []string{"https://registry.example.com"}}, "no scheme"},
		{KubeletConfigOptions{MatchImages: []string{"registry.example.com:*"}}, "--match-image"},
		{KubeletConfigOptions{MatchImages: []string{"registry.example.com/*"}}, "host only"},
		{KubeletConfigOptions{MatchImages: []string{"registry.example.com:70000"}}, "--match-image"},
		{KubeletConfigOptions{MatchImages: []string{"a\nb"}}, "--match-image"},
		{KubeletConfigOptions{MatchImages: []string{""}}, "--match-image"},
	} {
		var b bytes.Buffer
		err := PrintKubeletConfig(&b, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || b.Len() != 0 {
			t.Errorf("%+v: %v (wrote %d bytes), want an error saying %q", tc.opts, err, b.Len(), tc.want)
		}
	}
	if err := PrintKubeletConfig(failWriter{}, KubeletConfigOptions{}); err == nil {
		t.Error("no error from a failing writer")
	}
}

func TestParseKubeletConfigArgs(t *testing.T) {
	kubeletEnv(t)
	t.Setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", kProviderARN)
	o, err := ParseKubeletConfigArgs(nil, io.Discard)
	if err != nil || o.Name != KubeletProviderName || o.OIDCProviderARN != kProviderARN || o.ServiceAccountTokens || o.DefaultCacheDuration != DefaultKubeletCacheDuration {
		t.Errorf("defaults: %+v %v", o, err)
	}
	o, err = ParseKubeletConfigArgs([]string{"--service-account-tokens", "--match-image", "a.example", "--match-image=b.example:5000",
		"--audience", "x.example", "--role-annotation", AnnotationACKRoleName, "--oidc-provider-arn", "acs:ram::1:oidc-provider/p",
		"--name", "docker-credential-acr", "--api-version", "v1", "--default-cache-duration", "10m"}, io.Discard)
	if err != nil || !o.ServiceAccountTokens || strings.Join(o.MatchImages, ",") != "a.example,b.example:5000" || o.Audience != "x.example" ||
		o.RoleAnnotation != AnnotationACKRoleName || o.OIDCProviderARN != "acs:ram::1:oidc-provider/p" || o.Name != "docker-credential-acr" ||
		o.DefaultCacheDuration != 10*time.Minute {
		t.Errorf("flags: %+v %v", o, err)
	}
	if _, err := ParseKubeletConfigArgs([]string{"extra"}, io.Discard); err == nil {
		t.Error("no error for an argument")
	}
	if _, err := ParseKubeletConfigArgs([]string{"--nope"}, io.Discard); err == nil {
		t.Error("no error for an unknown flag")
	}
	var b bytes.Buffer
	if _, err := ParseKubeletConfigArgs([]string{"-h"}, &b); !errors.Is(err, flag.ErrHelp) || !strings.Contains(b.String(), "--service-account-tokens") && !strings.Contains(b.String(), "-service-account-tokens") {
		t.Errorf("-h: %v %q", err, b.String())
	}
}

// FuzzKubeletRequest: no input makes the plugin panic, hang, write a partial answer, or answer
// what it should have refused; answers are valid responses in the request's apiVersion.
func FuzzKubeletRequest(f *testing.F) {
	kubeletEnv(f)
	files, _ := filepath.Glob("testdata/kubelet/requests/*.json")
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
	k := &Keychain{Config: &config.Config{ExpiringThreshold: 15 * time.Minute, Endpoints: config.Endpoints{CR: "http://127.0.0.1:1", STS: "http://127.0.0.1:1"}}, DMIDir: f.TempDir()}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := Kubelet(ctx, k, bytes.NewReader(data), &out)
		req, derr := DecodeKubeletRequest(data)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("error %v and an answer %q", err, out.String())
			}
			var re *KubeletRequestError
			var we *WorkloadIdentityError
			if !errors.As(err, &re) && !errors.As(err, &we) {
				t.Fatalf("unexpected error %T: %v", err, err)
			}
			if errors.As(err, &re) != (derr != nil) && len(data) <= MaxKubeletInput {
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
		case KubeletAPIVersionV1, KubeletAPIVersionV1beta1, KubeletAPIVersionV1alpha1:
		default:
			t.Fatalf("accepted apiVersion %q", req.APIVersion)
		}
		if req.Kind != "CredentialProviderRequest" || req.Image == "" {
			t.Fatalf("accepted %+v", req)
		}
	})
}

func TestIsKubeletProviderName(t *testing.T) {
	for argv0, want := range map[string]bool{
		"acr-credential-provider": true,
		"/usr/libexec/kubernetes/kubelet-plugins/acr-credential-provider": true,
		`C:\k\bin\acr-credential-provider.exe`:                            true,
		"./acr-credential-provider":                                       true,
		"docker-credential-acr":                                           false,
		"/usr/local/bin/docker-credential-acr":                            false,
		"acr-credential-provider-old":                                     false,
		"":                                                                false,
	} {
		if got := IsKubeletProviderName(argv0); got != want {
			t.Errorf("IsKubeletProviderName(%q) = %v", argv0, got)
		}
	}
}
