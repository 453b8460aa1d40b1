// Package kubeletapi is the wire protocol of the kubelet's image credential providers
// (credentialprovider.kubelet.k8s.io v1, v1beta1 and v1alpha1, Kubernetes 1.20+), and the names
// the plugin and its printed CredentialProviderConfig share: it reads and decodes a
// CredentialProviderRequest, bounded in size and time, and defines the CredentialProviderResponse.
// It knows nothing of credentials.
//
// The JSON types here are small copies of the upstream ones
// (k8s.io/kubelet/pkg/apis/credentialprovider/v1), kept so that the binary does not depend on
// k8s.io/kubelet; the separate module kubelettest checks them against the upstream types.
package kubeletapi
