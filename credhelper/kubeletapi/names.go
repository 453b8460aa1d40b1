package kubeletapi

import (
	"path/filepath"
	"strings"
)

// The API versions of the kubelet's credential provider protocol. The answer always carries the
// request's apiVersion: the kubelet rejects any other.
const (
	APIVersionV1       = "credentialprovider.kubelet.k8s.io/v1"
	APIVersionV1beta1  = "credentialprovider.kubelet.k8s.io/v1beta1"
	APIVersionV1alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1"

	requestKind  = "CredentialProviderRequest"
	ResponseKind = "CredentialProviderResponse"
)

// Cache key types of a CredentialProviderResponse.
const (
	CacheKeyImage    = "Image"
	CacheKeyRegistry = "Registry"
	CacheKeyGlobal   = "Global"
)

// Names the plugin and the kubelet's config share.
const (
	// ProviderName is the name print-kubelet-config gives the provider, and under which the
	// binary is installed in the kubelet's --image-credential-provider-bin-dir (a copy or a
	// symlink of docker-credential-acr). Invoked under this name, the binary acts as the plugin.
	ProviderName = "acr-credential-provider"
	// AnnotationRoleARN on a service account names the RAM role (a full ARN,
	// acs:ram::<account>:role/<name>) whose credentials pull that workload's images.
	AnnotationRoleARN = "docker-credential-acr.alibabacloud.com/role-arn"
	// AnnotationACKRoleName is ACK's pod-identity annotation: a RAM role name in the account of
	// the OIDC provider.
	AnnotationACKRoleName = "pod-identity.alibabacloud.com/role-name"
	// EnvOIDCProviderARN names the RAM OIDC provider of the cluster
	// (acs:ram::<account>:oidc-provider/<name>) for service-account tokens;
	// EnvAlibabaOIDCProviderARN is read when it is unset.
	EnvOIDCProviderARN        = "DOCKER_CREDENTIAL_ACR_OIDC_PROVIDER_ARN"
	EnvAlibabaOIDCProviderARN = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN"
)

// IsProviderName reports whether argv0 (any directory, with or without ".exe") is
// ProviderName.
func IsProviderName(argv0 string) bool {
	base := filepath.Base(strings.ReplaceAll(argv0, `\`, "/"))
	return strings.EqualFold(strings.TrimSuffix(strings.TrimSuffix(base, ".exe"), ".EXE"), ProviderName)
}

// truncate shortens s for an error message (80 bytes and an ellipsis).
func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
