// Package kubelettest checks docker-credential-acr's kubelet credential provider against the
// upstream Kubernetes types (k8s.io/kubelet), decoded the way the kubelet decodes them, and the
// printed matchImages against the kubelet's own matching (k8s.io/kubernetes/pkg/credentialprovider).
// It is a module of its own so that the helper itself does not depend on Kubernetes.
//
// Run it with: cd kubelettest && go test ./...
package kubelettest
