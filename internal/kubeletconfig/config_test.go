package kubeletconfig

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
)

const kProviderARN = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-kubelet-test"

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

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

func TestDefaultMatchImages(t *testing.T) {
	acrHosts := []string{
		"registry.aliyuncs.com", // cn-hangzhou Personal, three labels
		"registry.cn-hangzhou.aliyuncs.com", "registry-vpc.cn-hangzhou.aliyuncs.com",
		"registry-internal.cn-hangzhou.aliyuncs.com", "registry-intl.ap-southeast-1.aliyuncs.com",
		"registry-intl-vpc.ap-southeast-1.aliyuncs.com", "registry.cn-shanghai-finance-1.aliyuncs.com",
		"crpi-abcdefgh12345678.cn-hangzhou.personal.cr.aliyuncs.com", "crpi-abcdefgh12345678-vpc.cn-hangzhou.personal.cr.aliyuncs.com",
		"acme-registry.cn-hangzhou.cr.aliyuncs.com", "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
		"aworld-registry-registry-vpc.cn-beijing.cr.aliyuncs.com",
		"acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com", "acme-registry-vpc.distributed.cn-hangzhou.cr.aliyuncs.com:65001",
	}
	// The kubelet compares ports exactly: each host also written with the default port.
	for _, h := range acrHosts[:len(acrHosts)-1] {
		acrHosts = append(acrHosts, h+":443")
	}
	for _, h := range acrHosts {
		reg, err := acr.Parse(h)
		if err != nil || !reg.IsACR() {
			t.Errorf("%s is not ACR by acr.Parse: %v", h, err)
		}
		image := h + "/ns/app:1"
		matched := false
		for _, p := range defaultMatchImages() {
			matched = matched || matchImage(p, image)
		}
		if !matched {
			t.Errorf("no matchImages pattern matches %s", image)
		}
	}
	for _, image := range []string{
		"registry.cn-hangzhou.aliyuncs.com.evil.example/ns/app", "evil.example/registry.cn-hangzhou.aliyuncs.com/app",
		"docker.io/library/nginx", "nginx", "oss-cn-hangzhou.aliyuncs.com/x", "ecs.cn-hangzhou.aliyuncs.com/x",
		"registry.cn-hangzhou.aliyuncs.com:5000/ns/app", "registry.aliyuncs.com:5000/ns/app", "registry-evil.aliyuncs.com/x", "acme-registry.cn-hangzhou.cr.aliyuncs.com:65001/ns/app",
	} {
		for _, p := range defaultMatchImages() {
			if matchImage(p, image) {
				t.Errorf("%s matches %s", p, image)
			}
		}
	}
	for _, p := range defaultMatchImages() {
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
			OptionalServiceAccountAnnotationKeys []string `yaml:"optionalServiceAccountAnnotationKeys"`
		} `yaml:"tokenAttributes"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
	} `yaml:"providers"`
}

func printConfig(t *testing.T, opts options) (string, printedConfig) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, opts); err != nil {
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

func TestWrite(t *testing.T) {
	out, c := printConfig(t, options{})
	p := c.Providers[0]
	if c.APIVersion != "kubelet.config.k8s.io/v1" || c.Kind != "CredentialProviderConfig" || p.Name != kubeletapi.ProviderName ||
		p.APIVersion != kubeletapi.APIVersionV1 || strings.Join(p.Args, " ") != "kubelet" || p.DefaultCacheDuration != "30m0s" ||
		p.TokenAttributes != nil || p.Env != nil || strings.Join(p.MatchImages, ",") != strings.Join(defaultMatchImages(), ",") {
		t.Errorf("default config:\n%s", out)
	}
	if strings.Contains(out, "request-serviceaccounts-token-audience") {
		t.Error("RBAC without service-account tokens")
	}

	_, c = printConfig(t, options{Name: "docker-credential-acr", APIVersion: "v1beta1", DefaultCacheDuration: 5 * time.Minute,
		MatchImages: []string{"registry.example.com", " registry.example.com:5000/team ", "*.example.org", "registry.example.com"}})
	p = c.Providers[0]
	if c.APIVersion != "kubelet.config.k8s.io/v1beta1" || p.APIVersion != kubeletapi.APIVersionV1beta1 || p.Name != "docker-credential-acr" || p.DefaultCacheDuration != "5m0s" {
		t.Errorf("v1beta1 config: %+v", c)
	}
	if got := strings.Join(p.MatchImages[len(defaultMatchImages()):], ","); got != "registry.example.com,registry.example.com:5000/team,*.example.org" {
		t.Errorf("extra matchImages %s", got)
	}

	out, c = printConfig(t, options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN})
	p = c.Providers[0]
	ta := p.TokenAttributes
	if ta == nil || ta.ServiceAccountTokenAudience != "sts.aliyuncs.com" || ta.CacheType != "ServiceAccount" || ta.RequireServiceAccount == nil ||
		*ta.RequireServiceAccount || ta.RequiredServiceAccountAnnotationKeys != nil ||
		strings.Join(ta.OptionalServiceAccountAnnotationKeys, ",") != kubeletapi.AnnotationRoleARN+","+kubeletapi.AnnotationACKRoleName ||
		!strings.Contains(out, "keep the node's identity") || len(p.Env) != 1 || p.Env[0].Name != kubeletapi.EnvOIDCProviderARN || p.Env[0].Value != kProviderARN {
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

	out, c = printConfig(t, options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, Audience: "acr.example", RequireRoleAnnotation: true, RoleAnnotation: kubeletapi.AnnotationACKRoleName})
	if ta := c.Providers[0].TokenAttributes; ta.ServiceAccountTokenAudience != "acr.example" || !*ta.RequireServiceAccount ||
		strings.Join(ta.RequiredServiceAccountAnnotationKeys, ",") != kubeletapi.AnnotationACKRoleName ||
		strings.Join(ta.OptionalServiceAccountAnnotationKeys, ",") != kubeletapi.AnnotationRoleARN || !strings.Contains(out, "get no credentials from this provider") {
		t.Errorf("required ACK annotation: %+v\n%s", ta, out)
	}
	_, c = printConfig(t, options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, RequireRoleAnnotation: true})
	if ta := c.Providers[0].TokenAttributes; !*ta.RequireServiceAccount || strings.Join(ta.RequiredServiceAccountAnnotationKeys, ",") != kubeletapi.AnnotationRoleARN ||
		strings.Join(ta.OptionalServiceAccountAnnotationKeys, ",") != kubeletapi.AnnotationACKRoleName {
		t.Errorf("required annotation: %+v", ta)
	}

	for _, tc := range []struct {
		opts options
		want string
	}{
		{options{ServiceAccountTokens: true}, "--oidc-provider-arn"},
		{options{ServiceAccountTokens: true, OIDCProviderARN: "acs:ram::1:role/x"}, "--oidc-provider-arn"},
		{options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, APIVersion: "v1beta1"}, "need apiVersion"},
		{options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, RequireRoleAnnotation: true, RoleAnnotation: "eks.amazonaws.com/role-arn"}, "--role-annotation"},
		{options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, RoleAnnotation: kubeletapi.AnnotationACKRoleName}, "--require-role-annotation"},
		{options{ServiceAccountTokens: true}, "RRSA OIDC"},
		{options{ServiceAccountTokens: true, OIDCProviderARN: kProviderARN, Audience: "a b"}, "--audience"},
		{options{APIVersion: "v2"}, "--api-version"},
		{options{Name: "bin/acr"}, "--name"},
		{options{Name: ".."}, "--name"},
		{options{DefaultCacheDuration: -time.Second}, "negative"},
		{options{MatchImages: []string{"https://registry.example.com"}}, "no scheme"},
		{options{MatchImages: []string{"registry.example.com:*"}}, "--match-image"},
		{options{MatchImages: []string{"registry.example.com/*"}}, "host only"},
		{options{MatchImages: []string{"registry.example.com:70000"}}, "--match-image"},
		{options{MatchImages: []string{"a\nb"}}, "--match-image"},
		{options{MatchImages: []string{""}}, "--match-image"},
	} {
		var b bytes.Buffer
		err := write(&b, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || b.Len() != 0 {
			t.Errorf("%+v: %v (wrote %d bytes), want an error saying %q", tc.opts, err, b.Len(), tc.want)
		}
	}
	if err := write(failWriter{}, options{}); err == nil {
		t.Error("no error from a failing writer")
	}
}

func TestParseArgs(t *testing.T) {
	getenv := env(map[string]string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": kProviderARN})
	o, err := parseArgs(nil, getenv, io.Discard)
	if err != nil || o.Name != kubeletapi.ProviderName || o.OIDCProviderARN != kProviderARN || o.ServiceAccountTokens || o.DefaultCacheDuration != defaultCacheDuration {
		t.Errorf("defaults: %+v %v", o, err)
	}
	o, err = parseArgs([]string{"--service-account-tokens", "--match-image", "a.example", "--match-image=b.example:5000",
		"--audience", "x.example", "--require-role-annotation", "--role-annotation", kubeletapi.AnnotationACKRoleName, "--oidc-provider-arn", "acs:ram::1:oidc-provider/p",
		"--name", "docker-credential-acr", "--api-version", "v1", "--default-cache-duration", "10m"}, getenv, io.Discard)
	if err != nil || !o.ServiceAccountTokens || strings.Join(o.MatchImages, ",") != "a.example,b.example:5000" || o.Audience != "x.example" ||
		o.RoleAnnotation != kubeletapi.AnnotationACKRoleName || !o.RequireRoleAnnotation || o.OIDCProviderARN != "acs:ram::1:oidc-provider/p" || o.Name != "docker-credential-acr" ||
		o.DefaultCacheDuration != 10*time.Minute {
		t.Errorf("flags: %+v %v", o, err)
	}
	if _, err := parseArgs([]string{"extra"}, getenv, io.Discard); err == nil {
		t.Error("no error for an argument")
	}
	if _, err := parseArgs([]string{"--nope"}, getenv, io.Discard); err == nil {
		t.Error("no error for an unknown flag")
	}
	var b bytes.Buffer
	if _, err := parseArgs([]string{"-h"}, getenv, &b); !errors.Is(err, flag.ErrHelp) || !strings.Contains(b.String(), "--service-account-tokens") && !strings.Contains(b.String(), "-service-account-tokens") {
		t.Errorf("-h: %v %q", err, b.String())
	}
}

// Run's exit codes are main's: 0 printed or --help, 2 bad flags, 1 any other error; the config
// (or, asked for, the usage) on stdout only, errors on stderr only.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		env         map[string]string
		code        int
		out, errOut string // substrings; "" wants it empty
	}{
		{nil, nil, 0, "kind: CredentialProviderConfig", ""},
		{[]string{"--service-account-tokens"}, map[string]string{kubeletapi.EnvOIDCProviderARN: kProviderARN}, 0, kProviderARN, ""},
		{[]string{"-h"}, nil, 0, "Usage: docker-credential-acr print-kubelet-config", ""},
		{[]string{"--help"}, nil, 0, "-service-account-tokens", ""},
		{[]string{"--nope"}, nil, 2, "", "Usage: docker-credential-acr print-kubelet-config"},
		{[]string{"extra"}, nil, 2, "", "unexpected argument"},
		{[]string{"--api-version", "v9"}, nil, 1, "", "--api-version"},
	} {
		var out, errOut bytes.Buffer
		code := Run(tc.args, env(tc.env), &out, &errOut)
		if code != tc.code || (tc.out == "") != (out.Len() == 0) || !strings.Contains(out.String(), tc.out) ||
			(tc.errOut == "") != (errOut.Len() == 0) || !strings.Contains(errOut.String(), tc.errOut) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errOut.String(), tc.code, tc.out, tc.errOut)
		}
	}
	if code := Run(nil, nil, failWriter{}, io.Discard); code != 1 {
		t.Errorf("failing stdout: exit %d", code)
	}
}
