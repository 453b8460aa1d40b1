package kubeletconfig

import (
	"errors"
	"fmt"
	"github.com/docker-credential-acr/docker-credential-acr/acr"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docker-credential-acr/docker-credential-acr/credhelper/kubeletapi"
)

// options say what write prints. The zero value gives the config for the node's own credentials.
type options struct {
	// Name of the provider: the executable's name in the kubelet's
	// --image-credential-provider-bin-dir. Default kubeletapi.ProviderName.
	Name string
	// APIVersion of the requests: kubeletapi.APIVersionV1 (default; Kubernetes 1.26+), or
	// v1beta1 (1.24+) / v1alpha1 (1.20+) for older kubelets, with the config in the same version.
	APIVersion string
	// DefaultCacheDuration, for answers without their own (stored logins); 0 means the default,
	// defaultCacheDuration.
	DefaultCacheDuration time.Duration
	// MatchImages are added to the ACR patterns: the custom domains of Enterprise instances
	// ("registry.example.com", "registry.example.com:5000"), which must also be in the helper's
	// config.
	MatchImages []string
	// ServiceAccountTokens adds tokenAttributes (Kubernetes 1.34+): per-workload identity.
	ServiceAccountTokens bool
	// Audience of the service-account tokens. Default defaultAudience.
	Audience string
	// RequireRoleAnnotation: the kubelet calls the plugin only for pods whose service account
	// carries RoleAnnotation (requireServiceAccount: true). Without it, pods whose service
	// account names no role keep the node's identity.
	RequireRoleAnnotation bool
	// RoleAnnotation is the annotation RequireRoleAnnotation requires:
	// kubeletapi.AnnotationRoleARN (default) or AnnotationACKRoleName. Both are read either way.
	RoleAnnotation string
	// OIDCProviderARN of the cluster, set in the provider's env. Required with
	// ServiceAccountTokens.
	OIDCProviderARN string
}

// defaultMatchImages are the matchImages patterns of every ACR default domain. In the kubelet's
// matching each '*' stands for (part of) exactly one DNS label and ports must be equal, so each
// depth, the explicit default port (an image written host:443/... matches only a pattern with
// :443) and the P2P port are listed:
//
//	registry.aliyuncs.com                            Personal Edition of cn-hangzhou, no region in the name (3 labels)
//	registry*.*.aliyuncs.com                         Personal Edition: registry[-vpc|-internal|-intl|-intl-vpc].<region>
//	crpi-*.*.personal.cr.aliyuncs.com                Personal Edition instances: crpi-<id>[-vpc].<region>
//	*-registry*.*.cr.aliyuncs.com                    Enterprise Edition: <name>-registry[-vpc].<region>
//	*-registry-vpc.distributed.*.cr.aliyuncs.com     Enterprise P2P acceleration, without a port
//	*-registry-vpc.distributed.*.cr.aliyuncs.com:65001 and with the P2P port
//
// each also with :443.
//
// Custom domains are not covered: add them (options.MatchImages). A new slice each call: the
// list is not for changing.
func defaultMatchImages() []string {
	return []string{
		"registry.aliyuncs.com",
		"registry.aliyuncs.com:443",
		"registry*.*.aliyuncs.com",
		"registry*.*.aliyuncs.com:443",
		"crpi-*.*.personal.cr.aliyuncs.com",
		"crpi-*.*.personal.cr.aliyuncs.com:443",
		"*-registry*.*.cr.aliyuncs.com",
		"*-registry*.*.cr.aliyuncs.com:443",
		"*-registry-vpc.distributed.*.cr.aliyuncs.com",
		"*-registry-vpc.distributed.*.cr.aliyuncs.com:443",
		"*-registry-vpc.distributed.*.cr.aliyuncs.com:65001",
	}
}

func (o options) withDefaults() (options, error) {
	fail := func(format string, a ...any) (options, error) {
		return o, fmt.Errorf("print-kubelet-config: "+format, a...)
	}
	if o.Name == "" {
		o.Name = kubeletapi.ProviderName
	}
	if o.Name != filepath.Base(o.Name) || strings.ContainsAny(o.Name, `/\:`) || o.Name == "." || o.Name == ".." || !printable(o.Name) {
		return fail("--name %q: want the plain file name of the executable", truncate(o.Name))
	}
	switch o.APIVersion {
	case "", "v1":
		o.APIVersion = kubeletapi.APIVersionV1
	case "v1beta1":
		o.APIVersion = kubeletapi.APIVersionV1beta1
	case "v1alpha1":
		o.APIVersion = kubeletapi.APIVersionV1alpha1
	case kubeletapi.APIVersionV1, kubeletapi.APIVersionV1beta1, kubeletapi.APIVersionV1alpha1:
	default:
		return fail("--api-version %q: want v1, v1beta1 or v1alpha1", truncate(o.APIVersion))
	}
	if o.DefaultCacheDuration == 0 {
		o.DefaultCacheDuration = defaultCacheDuration
	}
	if o.DefaultCacheDuration < 0 {
		return fail("--default-cache-duration %v: must not be negative", o.DefaultCacheDuration)
	}
	patterns := defaultMatchImages()
	seen := map[string]bool{}
	for _, p := range patterns {
		seen[p] = true
	}
	for _, m := range o.MatchImages {
		m = strings.TrimSpace(m)
		if err := checkMatchImage(m); err != nil {
			return fail("--match-image %q: %v", truncate(m), err)
		}
		if !seen[m] {
			seen[m] = true
			patterns = append(patterns, m)
		}
	}
	o.MatchImages = patterns
	if !o.ServiceAccountTokens {
		return o, nil
	}
	if o.APIVersion != kubeletapi.APIVersionV1 {
		return fail("service-account tokens need apiVersion %s (Kubernetes 1.34+)", kubeletapi.APIVersionV1)
	}
	if o.Audience == "" {
		o.Audience = defaultAudience
	}
	if !printable(o.Audience) || strings.ContainsAny(o.Audience, " \"'#") {
		return fail("--audience %q: want a plain string such as %s", truncate(o.Audience), defaultAudience)
	}
	switch o.RoleAnnotation {
	case "":
		o.RoleAnnotation = kubeletapi.AnnotationRoleARN
	case kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName:
		if !o.RequireRoleAnnotation {
			return fail("--role-annotation names the annotation --require-role-annotation requires; without that flag both %s and %s are read", kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName)
		}
	default:
		return fail("--role-annotation %q: want %s or %s", truncate(o.RoleAnnotation), kubeletapi.AnnotationRoleARN, kubeletapi.AnnotationACKRoleName)
	}
	o.OIDCProviderARN = strings.TrimSpace(o.OIDCProviderARN)
	if o.OIDCProviderARN == "" {
		return fail("--service-account-tokens needs the cluster's RAM OIDC provider, which cannot be found from here: "+
			"add --oidc-provider-arn acs:ram::<account>:oidc-provider/<name> (or set %s). "+
			"On ACK with RRSA enabled it is acs:ram::<account>:oidc-provider/ack-rrsa-<cluster id>, shown on the cluster's page under "+
			"Basic Information > Security and Auditing > RRSA OIDC", kubeletapi.EnvOIDCProviderARN)
	}
	if _, ok := acr.ParseProviderARN(o.OIDCProviderARN); !ok {
		return fail("--oidc-provider-arn %q: want acs:ram::<account>:oidc-provider/<name>", truncate(o.OIDCProviderARN))
	}
	return o, nil
}

// checkMatchImage accepts what the kubelet accepts as a matchImages entry: host[:port][/path],
// globs in the host only.
func checkMatchImage(m string) error {
	if err := acr.CheckMatchImage(m); err != nil {
		var he *acr.HostError
		if errors.As(err, &he) {
			return errors.New(he.Reason)
		}
		return err
	}
	return nil
}

func printable(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return false
		}
	}
	return true
}
