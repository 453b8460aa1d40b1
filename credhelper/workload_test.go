package credhelper

import (
	"context"
	"encoding/base64"
	"errors"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
)

func saRequest(image, token string, ann map[string]string) string {
	return kubeletRequest("v1", image, map[string]any{"serviceAccountToken": token, "serviceAccountAnnotations": ann})
}

func TestKubeletServiceAccount(t *testing.T) {
	w := newKubeletWorld(t)
	const image = "corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3"
	const host = "corp-registry.cn-hangzhou.cr.aliyuncs.com"
	annA := map[string]string{kubeletapi.AnnotationRoleARN: w.roleA, "unrelated.example.com/x": "y"}
	annB := map[string]string{kubeletapi.AnnotationRoleARN: w.roleB}

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

	// The node, and each service account and role, have their own cache keys; new tokens of one
	// service account share its key; a token that names no service account is its own identity.
	reg, err := acr.Parse(host)
	if err != nil {
		t.Fatal(err)
	}
	opaque1, opaque2 := "opaque.token.one", "opaque.token.two"
	keys := map[string]string{}
	for _, tc := range []struct {
		name   string
		req    kubeletapi.Request
		sameAs string // "": a key of its own
	}{
		{"team-a", kubeletapi.Request{ServiceAccountToken: w.tokenA, ServiceAccountAnnotations: annA}, ""},
		{"team-b", kubeletapi.Request{ServiceAccountToken: w.tokenB, ServiceAccountAnnotations: annB}, ""},
		{"team-a role b", kubeletapi.Request{ServiceAccountToken: w.tokenA, ServiceAccountAnnotations: annB}, ""},
		{"node", kubeletapi.Request{}, ""},
		{"team-a, a new token", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a", "puller", "", 7), ServiceAccountAnnotations: annA}, ""},
		{"team-a, another new token", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a", "puller", "", 8), ServiceAccountAnnotations: annA}, "team-a, a new token"},
		{"team-a uid 1", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a", "puller", "uid-1", 1), ServiceAccountAnnotations: annA}, ""},
		{"team-a uid 1, new token", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a", "puller", "uid-1", 2), ServiceAccountAnnotations: annA}, "team-a uid 1"},
		{"team-a uid 2 (recreated)", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a", "puller", "uid-2", 3), ServiceAccountAnnotations: annA}, ""},
		{"team-a uid 1 role b", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a", "puller", "uid-1", 4), ServiceAccountAnnotations: annB}, ""},
		{"team-a2 uid 1", kubeletapi.Request{ServiceAccountToken: saTokenN("team-a2", "puller", "uid-1", 5), ServiceAccountAnnotations: annA}, ""},
		{"opaque 1", kubeletapi.Request{ServiceAccountToken: opaque1, ServiceAccountAnnotations: annA}, ""},
		{"opaque 2", kubeletapi.Request{ServiceAccountToken: opaque2, ServiceAccountAnnotations: annA}, ""},
	} {
		kc := w.k
		if tc.req.ServiceAccountToken != "" {
			if kc, err = forWorkload(w.k, tc.req); err != nil {
				t.Fatal(err)
			}
		}
		p, err := kc.Plan(context.Background(), reg)
		if err != nil {
			t.Fatal(err)
		}
		if tc.sameAs != "" {
			if keys[tc.sameAs] != p.Key {
				t.Errorf("%s and %s have two cache keys", tc.name, tc.sameAs)
			}
			continue
		}
		for other, key := range keys {
			if key == p.Key {
				t.Errorf("%s and %s share the cache key", tc.name, other)
			}
		}
		keys[tc.name] = p.Key
	}

	// A workload never gets the node's stored `docker login` credentials.
	w.k.Logins = &memLogins{m: map[string][2]string{"crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com": {"node", "node-password"}}}
	r, err := w.run(t, saRequest("crpi-stored000000001.cn-hangzhou.personal.cr.aliyuncs.com/acme/app", w.tokenA, annA))
	if err != nil || r.Auth != nil {
		t.Errorf("a workload got the node's stored login: %+v, %v", r, err)
	}
	w.k.Logins = nil

	// ACK's annotation names a role in the provider's account.
	r, err = w.run(t, saRequest("registry-vpc.cn-hangzhou.aliyuncs.com/acme/app:1", w.tokenACK, map[string]string{kubeletapi.AnnotationACKRoleName: "ack-puller"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Auth) != 1 || r.Auth["registry-vpc.cn-hangzhou.aliyuncs.com"].Password == "" {
		t.Errorf("ACK annotation: %+v", r)
	}
	// Both annotations, naming the same role: fine.
	if _, err := w.run(t, saRequest("registry-vpc.cn-hangzhou.aliyuncs.com/acme/app:1", w.tokenACK, map[string]string{kubeletapi.AnnotationACKRoleName: "ack-puller", kubeletapi.AnnotationRoleARN: w.roleACK})); err != nil {
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
		token401 bool // a *keychain.TokenError from STS rather than a *WorkloadIdentityError
	}{
		{"empty role", kProviderARN, map[string]string{kubeletapi.AnnotationRoleARN: ""}, w.tokenA, "is not a RAM role ARN", false},
		{"bad role arn", kProviderARN, map[string]string{kubeletapi.AnnotationRoleARN: "arn:aws:iam::123:role/x"}, w.tokenA, "is not a RAM role ARN", false},
		{"bad ack role name", kProviderARN, map[string]string{kubeletapi.AnnotationACKRoleName: "a b"}, w.tokenA, "is not a RAM role name", false},
		{"two roles", kProviderARN, map[string]string{kubeletapi.AnnotationRoleARN: w.roleA, kubeletapi.AnnotationACKRoleName: "puller-b"}, w.tokenA, "two roles", false},
		{"no provider", "-", map[string]string{kubeletapi.AnnotationRoleARN: w.roleA}, w.tokenA, kubeletapi.EnvOIDCProviderARN, false},
		{"bad provider", "acs:ram::1:role/x", map[string]string{kubeletapi.AnnotationRoleARN: w.roleA}, w.tokenA, "is not an OIDC provider ARN", false},
		{"token of another role", kProviderARN, map[string]string{kubeletapi.AnnotationRoleARN: w.roleB}, w.tokenA, "AssumeRoleWithOIDC", true},
		{"unknown token", kProviderARN, map[string]string{kubeletapi.AnnotationRoleARN: w.roleA}, saToken("evil", "forged"), "AssumeRoleWithOIDC", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.provider == "-" {
				w.env.unsetenv(kubeletapi.EnvOIDCProviderARN)
			} else {
				w.env.setenv(kubeletapi.EnvOIDCProviderARN, tc.provider)
			}
			_, err := w.run(t, saRequest(image, tc.token, tc.ann))
			if err == nil {
				t.Fatal("no error")
			}
			var we *workloadIdentityError
			var te *keychain.TokenError
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
	w.env.setenv(kubeletapi.EnvOIDCProviderARN, kProviderARN)
	// The ALIBABA_CLOUD_ name works too.
	w.env.unsetenv(kubeletapi.EnvOIDCProviderARN)
	w.env.setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", kProviderARN)
	if _, err := w.run(t, saRequest(image, w.tokenA, map[string]string{kubeletapi.AnnotationRoleARN: w.roleA})); err != nil {
		t.Errorf("with ALIBABA_CLOUD_OIDC_PROVIDER_ARN: %v", err)
	}
	if strings.Contains(w.log.String(), w.tokenA) {
		t.Error("the log shows the token")
	}
}

// Every sample request decodes; the kubelettest module checks the same files against the
// upstream types.
func TestServiceAccountFixtures(t *testing.T) {
	files, err := filepath.Glob(testkit.Path("kubelet", "requests", "*service-account*.json"))
	if err != nil || len(files) < 2 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req, err := kubeletapi.DecodeRequest(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if req.ServiceAccountToken == "" || len(req.ServiceAccountAnnotations) == 0 || serviceAccountOf(req.ServiceAccountToken) != "team-a/puller" {
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

// A service account that names no role keeps the node's identity: the kubelet sends its token
// for every pod once tokenAttributes are configured (requireServiceAccount: false), and such pods
// pull as the node, as pods without a service account do. No OIDC provider is needed for them.
func TestKubeletServiceAccountWithoutRole(t *testing.T) {
	w := newKubeletWorld(t)
	w.env.unsetenv(kubeletapi.EnvOIDCProviderARN)
	const image = "corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3"
	const host = "corp-registry.cn-hangzhou.cr.aliyuncs.com"
	node, err := w.run(t, kubeletRequest("v1", image, nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, ann := range map[string]map[string]string{
		"no annotations":        nil,
		"unrelated annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x", "team": "a"},
	} {
		r, err := w.run(t, saRequest(image, w.tokenA, ann))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Auth[host] != node.Auth[host] || r.Auth[host].Password == "" {
			t.Errorf("%s: %v, want the node's login %v", name, r.Auth, node.Auth)
		}
	}
	if n := w.fc.Count("AssumeRoleWithOIDC"); n != 0 {
		t.Errorf("%d AssumeRoleWithOIDC calls for service accounts without a role", n)
	}
	for _, it := range w.fc.IssuedTokens() {
		if it.AccessKeyID != kNodeAK {
			t.Errorf("a token issued to %s, not the node", it.AccessKeyID)
		}
	}
	// An annotation that is there but empty or wrong is an error, never the node's identity.
	if _, err := w.run(t, saRequest(image, w.tokenA, map[string]string{kubeletapi.AnnotationACKRoleName: ""})); err == nil {
		t.Error("an empty role annotation got the node's identity")
	}
}

// Issue 11, finding 3: 1,000 pulls by one service account, each with a new token (as the kubelet
// hands out), cost one AssumeRoleWithOIDC and one token call, and leave the files of one
// identity in the cache, not one entry per token.
func TestKubeletServiceAccountCacheGrowth(t *testing.T) {
	w := newKubeletWorld(t)
	const pulls = 1000
	const image = "corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3"
	ann := map[string]string{kubeletapi.AnnotationRoleARN: w.roleA}
	tokens := make([]string, pulls)
	for i := range tokens {
		tokens[i] = saTokenN("team-a", "puller", "6f1e0c2a-0000-4000-8000-000000000001", i)
		if err := w.fc.AddOIDCToken(fakecloud.OIDCToken{ProviderARN: kProviderARN, RoleARN: w.roleA, Token: tokens[i], Subject: "system:serviceaccount:team-a:puller"}); err != nil {
			t.Fatal(err)
		}
	}
	var first string
	for i, tok := range tokens {
		r, err := w.run(t, saRequest(image, tok, ann))
		if err != nil {
			t.Fatalf("pull %d: %v", i, err)
		}
		pw := r.Auth["corp-registry.cn-hangzhou.cr.aliyuncs.com"].Password
		if i == 0 {
			first = pw
		} else if pw != first {
			t.Fatalf("pull %d got another login", i)
		}
	}
	files, err := filepath.Glob(filepath.Join(w.cacheDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	err = filepath.WalkDir(w.cacheDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			all = append(all, strings.TrimPrefix(path, w.cacheDir))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d service-account pulls: %d files in the cache (%v), %d AssumeRoleWithOIDC, %d GetAuthorizationToken",
		pulls, len(all), all, w.fc.Count("AssumeRoleWithOIDC"), w.fc.Count("GetAuthorizationToken"))
	if n := w.fc.Count("AssumeRoleWithOIDC"); n != 1 {
		t.Errorf("%d AssumeRoleWithOIDC calls, want 1", n)
	}
	if n := w.fc.Count("GetAuthorizationToken"); n != 1 {
		t.Errorf("%d token calls, want 1", n)
	}
	// One token entry and its lock, the host's remembered challenge and the identity's instance
	// lookup (each with a lock at most), and the prune stamp: nothing per token.
	var entries, lookups, locks, other int
	for _, f := range all {
		switch name := filepath.Base(f); {
		case strings.HasSuffix(name, ".lock"):
			locks++
		case strings.HasSuffix(name, ".lookup"):
			lookups++
		case name == ".last-prune":
		case !strings.HasPrefix(name, "."):
			entries++
		default:
			other++
		}
	}
	if entries != 1 || lookups > 2 || locks > 3 || other != 0 || len(files) == 0 {
		t.Errorf("%d files in the cache after %d pulls of one service account (%d token entries, %d lookups, %d locks, %d others): %v",
			len(all), pulls, entries, lookups, locks, other, all)
	}
}
