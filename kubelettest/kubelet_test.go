package kubelettest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation"
	kubeletconfigv1 "k8s.io/kubelet/config/v1"
	kubeletconfigv1alpha1 "k8s.io/kubelet/config/v1alpha1"
	kubeletconfigv1beta1 "k8s.io/kubelet/config/v1beta1"
	"k8s.io/kubelet/pkg/apis/credentialprovider"
	"k8s.io/kubelet/pkg/apis/credentialprovider/install"
	cpv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	cpv1alpha1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1alpha1"
	cpv1beta1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1beta1"

	"github.com/docker-credential-acr/docker-credential-acr/cache"
	"github.com/docker-credential-acr/docker-credential-acr/config"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
	"github.com/docker-credential-acr/docker-credential-acr/internal/kubeletconfig"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit"
	"github.com/docker-credential-acr/docker-credential-acr/internal/testkit/fakecloud"
	"github.com/docker-credential-acr/docker-credential-acr/keychain"
)

// The kubelet's codecs: the credentialprovider API installed in a scheme, strict decoding
// (unknown and duplicate fields are errors, names match case-sensitively).
var (
	cpScheme = runtime.NewScheme()
	cpCodecs = serializer.NewCodecFactory(cpScheme, serializer.EnableStrict)

	configScheme = runtime.NewScheme()
	configCodecs = serializer.NewCodecFactory(configScheme, serializer.EnableStrict)

	versions = map[string]schema.GroupVersion{
		kubeletapi.APIVersionV1:       cpv1.SchemeGroupVersion,
		kubeletapi.APIVersionV1beta1:  cpv1beta1.SchemeGroupVersion,
		kubeletapi.APIVersionV1alpha1: cpv1alpha1.SchemeGroupVersion,
	}
)

func init() {
	install.Install(cpScheme)
	for _, add := range []func(*runtime.Scheme) error{kubeletconfigv1.AddToScheme, kubeletconfigv1beta1.AddToScheme, kubeletconfigv1alpha1.AddToScheme, rbacv1.AddToScheme} {
		if err := add(configScheme); err != nil {
			panic(err)
		}
	}
}

// TestConstants: the helper's copies of the upstream names.
func TestConstants(t *testing.T) {
	for ours, gv := range versions {
		if ours != gv.String() {
			t.Errorf("%s != %s", ours, gv)
		}
	}
	for ours, theirs := range map[string]string{
		kubeletapi.CacheKeyImage:    string(cpv1.ImagePluginCacheKeyType),
		kubeletapi.CacheKeyRegistry: string(cpv1.RegistryPluginCacheKeyType),
		kubeletapi.CacheKeyGlobal:   string(cpv1.GlobalPluginCacheKeyType),
	} {
		if ours != theirs {
			t.Errorf("%s != %s", ours, theirs)
		}
	}
	for _, k := range []string{kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName} {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			t.Errorf("annotation %s: %v", k, errs)
		}
	}
}

// encodeRequest encodes a request the way the kubelet does (internal type, encoder for the
// provider's apiVersion).
func encodeRequest(t *testing.T, apiVersion string, req *credentialprovider.CredentialProviderRequest) []byte {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(cpCodecs.SupportedMediaTypes(), "application/json")
	if !ok {
		t.Fatal("no JSON serializer")
	}
	data, err := runtime.Encode(cpCodecs.EncoderForVersion(info.Serializer, versions[apiVersion]), req)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeStrictInto decodes data into a versioned upstream type with encoding/json, refusing
// unknown fields.
func decodeStrictInto(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("strict decode into %T: %v\n%s", v, err, data)
	}
	if dec.More() {
		t.Fatalf("more than one value: %s", data)
	}
}

func versionedRequest(apiVersion string) any {
	switch apiVersion {
	case kubeletapi.APIVersionV1:
		return &cpv1.CredentialProviderRequest{}
	case kubeletapi.APIVersionV1beta1:
		return &cpv1beta1.CredentialProviderRequest{}
	case kubeletapi.APIVersionV1alpha1:
		return &cpv1alpha1.CredentialProviderRequest{}
	}
	return nil
}

// The sample requests of the helper's tests are what the kubelet sends, and survive the trip
// through the kubelet's encoder into the helper's decoder.
func TestRequestFixturesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(testkit.Path("kubelet", "requests", "*.json"))
	if err != nil || len(files) < 5 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				APIVersion string `json:"apiVersion"`
			}
			if err := json.Unmarshal(data, &meta); err != nil {
				t.Fatal(err)
			}
			v := versionedRequest(meta.APIVersion)
			if v == nil {
				t.Fatalf("apiVersion %q", meta.APIVersion)
			}
			decodeStrictInto(t, data, v)

			obj, gvk, err := cpCodecs.UniversalDecoder().Decode(data, nil, nil)
			if err != nil {
				t.Fatalf("kubelet codec: %v", err)
			}
			if gvk.Kind != "CredentialProviderRequest" || gvk.GroupVersion().String() != meta.APIVersion {
				t.Fatalf("gvk %v", gvk)
			}
			internal := obj.(*credentialprovider.CredentialProviderRequest)

			ours, err := kubeletapi.DecodeRequest(encodeRequest(t, meta.APIVersion, internal))
			if err != nil {
				t.Fatal(err)
			}
			direct, err := kubeletapi.DecodeRequest(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ours, direct) {
				t.Errorf("kubelet-encoded %+v, fixture %+v", ours, direct)
			}
			if ours.APIVersion != meta.APIVersion || ours.Kind != "CredentialProviderRequest" || ours.Image != internal.Image ||
				ours.ServiceAccountToken != internal.ServiceAccountToken || !equalMaps(ours.ServiceAccountAnnotations, internal.ServiceAccountAnnotations) {
				t.Errorf("ours %+v, upstream %+v", ours, internal)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// Requests built by the kubelet's encoder, every version, with and without the
// service-account fields, decode into what the kubelet meant.
func TestKubeletEncodedRequests(t *testing.T) {
	for apiVersion := range versions {
		for _, req := range []credentialprovider.CredentialProviderRequest{
			{Image: "registry.cn-hangzhou.aliyuncs.com/ns/app:1"},
			{Image: "corp-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/ns/app@sha256:" + strings.Repeat("0", 64)},
			{Image: "corp-registry.cn-hangzhou.cr.aliyuncs.com/ns/app", ServiceAccountToken: "a.b.c",
				ServiceAccountAnnotations: map[string]string{kubeletapi.AnnotationRoleARN: "acs:ram::1:role/r", "x": ""}},
		} {
			data := encodeRequest(t, apiVersion, &req)
			got, err := kubeletapi.DecodeRequest(data)
			if err != nil {
				t.Fatalf("%s: %v", data, err)
			}
			want := kubeletapi.Request{APIVersion: apiVersion, Kind: "CredentialProviderRequest", Image: req.Image}
			if apiVersion == kubeletapi.APIVersionV1 { // the only version with these fields
				want.ServiceAccountToken, want.ServiceAccountAnnotations = req.ServiceAccountToken, req.ServiceAccountAnnotations
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %+v, want %+v", data, got, want)
			}
		}
	}
}

// ---- responses, from the helper itself against a local fake of the Alibaba Cloud APIs ----

// The parts of the shared world (testdata/world.json) the response tests use: the node pulls as
// user dev of account main, Enterprise images are instance corp's, and per-workload identity
// uses roles puller-a and ack-puller with the world's service-account tokens.
var (
	theWorld    = testkit.Load()
	providerARN = theWorld.OIDCToken("puller-a").ProviderARN
)

// isolate keeps the machine's credentials, settings, proxies and directories from the helper
// (testkit.ScrubEnv), with no CLI profile either.
func isolate(t *testing.T) {
	testkit.ScrubEnv(t)
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
}

type world struct {
	fc     *fakecloud.Server
	k      *keychain.Keychain
	role   string
	token  string
	ackTok string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	isolate(t)
	fc, tw := testkit.StartFake(t)
	node, corp := tw.User("dev"), tw.Instance("corp")
	w := &world{fc: fc, role: tw.Role("puller-a").ARN(), token: tw.OIDCToken("puller-a").Token, ackTok: tw.OIDCToken("ack-puller").Token}
	ch := httptest.NewServer(fakecloud.Challenge(corp.Region, "china:"+corp.ID))
	t.Cleanup(ch.Close)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", node.AccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", node.AccessKeySecret)
	t.Setenv(kubeletapi.EnvOIDCProviderARN, providerARN)
	store, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.k = &keychain.Keychain{
		Config: &config.Config{
			Endpoints:         config.Endpoints{CR: w.fc.URL(), STS: w.fc.URL()},
			ExpiringThreshold: 15 * time.Minute,
			Timeout:           20 * time.Second,
		},
		Cache:        store,
		DMIDir:       t.TempDir(),
		ChallengeURL: func(string) string { return ch.URL + "/v2/" },
	}
	return w
}

func versionedResponse(apiVersion string) any {
	switch apiVersion {
	case kubeletapi.APIVersionV1:
		return &cpv1.CredentialProviderResponse{}
	case kubeletapi.APIVersionV1beta1:
		return &cpv1beta1.CredentialProviderResponse{}
	case kubeletapi.APIVersionV1alpha1:
		return &cpv1alpha1.CredentialProviderResponse{}
	}
	return nil
}

// Every answer the helper gives decodes strictly into the upstream types, as the kubelet
// decodes it, in the apiVersion of the request.
func TestResponsesDecodeStrictly(t *testing.T) {
	w := newWorld(t)
	type tc struct {
		image   string
		sa      bool
		ack     bool
		authKey string // "" for no auth
	}
	cases := []tc{
		{"registry.cn-hangzhou.aliyuncs.com/acme/app:1", false, false, "registry.cn-hangzhou.aliyuncs.com"},
		{"registry-vpc.cn-hangzhou.aliyuncs.com/acme/app@sha256:" + strings.Repeat("ab", 32), false, false, "registry-vpc.cn-hangzhou.aliyuncs.com"},
		{"corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3", false, false, "corp-registry.cn-hangzhou.cr.aliyuncs.com"},
		{"corp-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001/team/app:3", false, false, "corp-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001"},
		{"docker.io/library/nginx:1.27", false, false, ""},
		{"nginx", false, false, ""},
		{"gcr.io/x/y", false, false, ""},
		{"localhost:5000/x", false, false, ""},
		{"crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com/acme/app", false, false, ""},
		{"corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3", true, false, "corp-registry.cn-hangzhou.cr.aliyuncs.com"},
		{"registry.cn-hangzhou.aliyuncs.com/acme/app:1", true, true, "registry.cn-hangzhou.aliyuncs.com"},
		{"docker.io/library/nginx:1.27", true, false, ""},
		{"registry.cn-hangzhou.aliyuncs.com:443/acme/app:1", false, false, "registry.cn-hangzhou.aliyuncs.com:443"},
	}
	// A service account that names no role: the node's login.
	noRole := tc{"corp-registry.cn-hangzhou.cr.aliyuncs.com/team/app:3", true, false, "corp-registry.cn-hangzhou.cr.aliyuncs.com"}
	n := 0
	for apiVersion := range versions {
		for i, c := range append(cases, noRole) {
			noRoleCase := i == len(cases)
			if c.sa && apiVersion != kubeletapi.APIVersionV1 {
				continue
			}
			req := &credentialprovider.CredentialProviderRequest{Image: c.image}
			if c.sa {
				req.ServiceAccountToken = w.token
				req.ServiceAccountAnnotations = map[string]string{kubeletapi.AnnotationRoleARN: w.role}
				if c.ack {
					req.ServiceAccountToken = w.ackTok
					req.ServiceAccountAnnotations = map[string]string{kubeletapi.AnnotationACKRoleName: "ack-puller"}
				}
				if noRoleCase {
					req.ServiceAccountAnnotations = map[string]string{"example.com/team": "a"}
				}
			}
			var out bytes.Buffer
			if err := credhelper.Kubelet(context.Background(), w.k, bytes.NewReader(encodeRequest(t, apiVersion, req)), &out); err != nil {
				t.Fatalf("%s %s: %v", apiVersion, c.image, err)
			}
			data := out.Bytes()
			n++

			// What the kubelet does with the plugin's stdout: check the apiVersion, decode strictly.
			gvk, err := kjson.DefaultMetaFactory.Interpret(data)
			if err != nil || gvk.GroupVersion().String() != apiVersion {
				t.Fatalf("apiVersion of the answer: %v %v, want %s", gvk, err, apiVersion)
			}
			obj, gvk2, err := cpCodecs.UniversalDecoder().Decode(data, nil, nil)
			if err != nil {
				t.Fatalf("the kubelet's decoder refuses %s: %v", data, err)
			}
			if gvk2.Kind != "CredentialProviderResponse" || gvk2.Group != credentialprovider.GroupName {
				t.Fatalf("gvk %v", gvk2)
			}
			resp := obj.(*credentialprovider.CredentialProviderResponse)
			decodeStrictInto(t, data, versionedResponse(apiVersion))

			if resp.CacheKeyType != credentialprovider.RegistryPluginCacheKeyType {
				t.Errorf("cacheKeyType %q", resp.CacheKeyType)
			}
			if resp.CacheDuration == nil {
				t.Errorf("%s: no cacheDuration", c.image)
			}
			if c.authKey == "" {
				if resp.Auth != nil || resp.CacheDuration == nil || resp.CacheDuration.Duration != 0 {
					t.Errorf("%s: %+v, want no auth and cacheDuration 0", c.image, resp)
				}
				continue
			}
			a, ok := resp.Auth[c.authKey]
			if !ok || len(resp.Auth) != 1 || a.Username == "" || a.Password == "" {
				t.Errorf("%s: auth keys %v, want %s", c.image, keys(resp.Auth), c.authKey)
			}
			if d := resp.CacheDuration.Duration; d < 40*time.Minute || d > 45*time.Minute || d%time.Second != 0 {
				t.Errorf("%s: cacheDuration %v", c.image, d)
			}
		}
	}
	if n < 25 {
		t.Errorf("only %d answers checked", n)
	}
	if w.fc.Count("AssumeRoleWithOIDC") != 2 {
		t.Errorf("%d AssumeRoleWithOIDC calls, want 2", w.fc.Count("AssumeRoleWithOIDC"))
	}
}

func keys(m map[string]credentialprovider.AuthConfig) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ---- print-kubelet-config ----

// TestPrintedConfigDecodesStrictly: the printed CredentialProviderConfig decodes strictly with
// the kubelet's config types, passes the checks the kubelet makes on it, and its commented RBAC
// decodes as rbac.authorization.k8s.io/v1 objects.
func TestPrintedConfigDecodesStrictly(t *testing.T) {
	isolate(t)
	for _, args := range [][]string{
		{},
		{"--match-image", "registry.example.com", "--match-image", "registry.example.com:5443/team", "--match-image", "*.registry.example.org", "--default-cache-duration", "10m"},
		{"--api-version", "v1beta1"},
		{"--api-version", "v1alpha1", "--name", "docker-credential-acr"},
		{"--service-account-tokens", "--oidc-provider-arn", providerARN},
		{"--service-account-tokens", "--oidc-provider-arn", providerARN, "--audience", "acr.example.com"},
		{"--service-account-tokens", "--oidc-provider-arn", providerARN, "--require-role-annotation"},
		{"--service-account-tokens", "--oidc-provider-arn", providerARN, "--require-role-annotation", "--role-annotation", kubeletapi.AnnotationACKRoleName, "--audience", "acr.example.com"},
	} {
		var b, stderr bytes.Buffer
		if code := kubeletconfig.Run(args, func(string) string { return "" }, &b, &stderr); code != 0 {
			t.Fatalf("print-kubelet-config %q: exit %d: %s", args, code, stderr.String())
		}
		opts := struct {
			APIVersion            string
			ServiceAccountTokens  bool
			RequireRoleAnnotation bool
			RoleAnnotation        string
		}{RoleAnnotation: kubeletapi.AnnotationRoleARN}
		for i, a := range args {
			switch a {
			case "--api-version":
				opts.APIVersion = args[i+1]
			case "--service-account-tokens":
				opts.ServiceAccountTokens = true
			case "--require-role-annotation":
				opts.RequireRoleAnnotation = true
			case "--role-annotation":
				opts.RoleAnnotation = args[i+1]
			}
		}
		data := b.Bytes()
		obj, gvk, err := configCodecs.UniversalDeserializer().Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("%q: the kubelet's decoder refuses the config: %v\n%s", args, err, data)
		}
		var cfg kubeletconfigv1.CredentialProviderConfig
		switch c := obj.(type) {
		case *kubeletconfigv1.CredentialProviderConfig:
			cfg = *c
		case *kubeletconfigv1beta1.CredentialProviderConfig:
			convert(t, c, &cfg)
		case *kubeletconfigv1alpha1.CredentialProviderConfig:
			convert(t, c, &cfg)
		default:
			t.Fatalf("decoded %T (%v)", obj, gvk)
		}
		wantVersion := "v1"
		if opts.APIVersion != "" {
			wantVersion = opts.APIVersion
		}
		if gvk.Version != wantVersion || gvk.Kind != "CredentialProviderConfig" {
			t.Errorf("config gvk %v", gvk)
		}
		validateConfig(t, &cfg)
		p := cfg.Providers[0]
		if "credentialprovider.kubelet.k8s.io/"+wantVersion != p.APIVersion {
			t.Errorf("provider apiVersion %s", p.APIVersion)
		}
		if opts.ServiceAccountTokens != (p.TokenAttributes != nil) {
			t.Errorf("tokenAttributes %+v", p.TokenAttributes)
		}
		if p.TokenAttributes != nil {
			ta := p.TokenAttributes
			if ta.CacheType != kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType || *ta.RequireServiceAccount != opts.RequireRoleAnnotation {
				t.Errorf("tokenAttributes %+v", ta)
			}
			// Both annotations reach the plugin (ACK's too); only --require-role-annotation
			// makes one required, and pods without it then get nothing from this provider.
			all := append(append([]string{}, ta.RequiredServiceAccountAnnotationKeys...), ta.OptionalServiceAccountAnnotationKeys...)
			if !slices.Contains(all, kubeletapi.AnnotationRoleARN) || !slices.Contains(all, kubeletapi.AnnotationACKRoleName) || len(all) != 2 {
				t.Errorf("annotation keys %v", all)
			}
			if want := []string{opts.RoleAnnotation}; opts.RequireRoleAnnotation && !reflect.DeepEqual(ta.RequiredServiceAccountAnnotationKeys, want) ||
				!opts.RequireRoleAnnotation && len(ta.RequiredServiceAccountAnnotationKeys) != 0 {
				t.Errorf("required annotation keys %v", ta.RequiredServiceAccountAnnotationKeys)
			}
			if len(p.Env) != 1 || p.Env[0].Name != kubeletapi.EnvOIDCProviderARN || p.Env[0].Value != providerARN {
				t.Errorf("env %+v", p.Env)
			}
			checkRBAC(t, b.String(), ta.ServiceAccountTokenAudience)
		}
	}
}

// convert moves an older config into the v1 struct (the fields are the same, by JSON name).
func convert(t *testing.T, from, to any) {
	t.Helper()
	data, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	decodeStrictInto(t, data, to)
}

// validateConfig makes the checks the kubelet documents for a CredentialProviderConfig.
func validateConfig(t *testing.T, cfg *kubeletconfigv1.CredentialProviderConfig) {
	t.Helper()
	if len(cfg.Providers) != 1 {
		t.Fatalf("%d providers", len(cfg.Providers))
	}
	p := cfg.Providers[0]
	if p.Name == "" || p.Name == "." || strings.ContainsAny(p.Name, `/\`) || strings.Contains(p.Name, "..") {
		t.Errorf("name %q", p.Name)
	}
	if len(p.MatchImages) == 0 {
		t.Error("no matchImages")
	}
	for _, m := range p.MatchImages {
		u, err := url.Parse("https://" + m)
		if err != nil || u.Host == "" || strings.ContainsAny(u.Port(), "*") {
			t.Errorf("matchImages %q: %v", m, err)
		}
	}
	if p.DefaultCacheDuration == nil || p.DefaultCacheDuration.Duration < 0 {
		t.Errorf("defaultCacheDuration %v", p.DefaultCacheDuration)
	}
	if _, ok := versions[p.APIVersion]; !ok {
		t.Errorf("apiVersion %q", p.APIVersion)
	}
	if strings.Join(p.Args, " ") != "kubelet" {
		t.Errorf("args %v", p.Args)
	}
	if ta := p.TokenAttributes; ta != nil {
		if p.APIVersion != kubeletapi.APIVersionV1 {
			t.Error("tokenAttributes need apiVersion v1")
		}
		if ta.ServiceAccountTokenAudience == "" {
			t.Error("no audience")
		}
		switch ta.CacheType {
		case kubeletconfigv1.TokenServiceAccountTokenCacheType, kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType:
		default:
			t.Errorf("cacheType %q", ta.CacheType)
		}
		if ta.RequireServiceAccount == nil {
			t.Error("requireServiceAccount is required")
		}
		if len(ta.RequiredServiceAccountAnnotationKeys) > 0 && (ta.RequireServiceAccount == nil || !*ta.RequireServiceAccount) {
			t.Error("required annotation keys need requireServiceAccount: true")
		}
		// Keys unique within and across the two lists (the kubelet wants them mutually exclusive).
		seen := map[string]bool{}
		for _, k := range append(append([]string{}, ta.RequiredServiceAccountAnnotationKeys...), ta.OptionalServiceAccountAnnotationKeys...) {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 || seen[k] {
				t.Errorf("annotation key %q: %v (duplicate: %v)", k, errs, seen[k])
			}
			seen[k] = true
		}
		if ta.CacheType == kubeletconfigv1.ServiceAccountServiceAccountTokenCacheType && len(seen) == 0 {
			t.Error("cacheType ServiceAccount with no annotation keys: the answer would not depend on the service account")
		}
	}
}

func checkRBAC(t *testing.T, out, audience string) {
	t.Helper()
	_, block, ok := strings.Cut(out, "# RBAC for the nodes:\n")
	if !ok {
		t.Fatalf("no RBAC block:\n%s", out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "# "))
	}
	docs := strings.Split(strings.Join(lines, "\n"), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d RBAC documents", len(docs))
	}
	obj, _, err := configCodecs.UniversalDeserializer().Decode([]byte(docs[0]), nil, nil)
	if err != nil {
		t.Fatalf("ClusterRole: %v\n%s", err, docs[0])
	}
	role, ok := obj.(*rbacv1.ClusterRole)
	if !ok || len(role.Rules) != 1 || !reflect.DeepEqual(role.Rules[0].Resources, []string{audience}) ||
		!reflect.DeepEqual(role.Rules[0].Verbs, []string{"request-serviceaccounts-token-audience"}) || !reflect.DeepEqual(role.Rules[0].APIGroups, []string{""}) {
		t.Errorf("ClusterRole %+v", obj)
	}
	obj, _, err = configCodecs.UniversalDeserializer().Decode([]byte(docs[1]), nil, nil)
	if err != nil {
		t.Fatalf("ClusterRoleBinding: %v\n%s", err, docs[1])
	}
	binding, ok := obj.(*rbacv1.ClusterRoleBinding)
	if !ok || binding.RoleRef.Name != role.Name || binding.RoleRef.Kind != "ClusterRole" || len(binding.Subjects) != 1 ||
		binding.Subjects[0].Kind != "Group" || binding.Subjects[0].Name != "system:nodes" {
		t.Errorf("ClusterRoleBinding %+v", obj)
	}
	if errs := validation.IsDNS1123Subdomain(role.Name); len(errs) > 0 {
		t.Errorf("name %q: %v", role.Name, errs)
	}
}
