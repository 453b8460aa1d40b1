// Package kubelettest checks docker-credential-acr's kubelet credential provider against the
// upstream Kubernetes types (k8s.io/kubelet), decoded the way the kubelet decodes them. It is a
// module of its own so that the helper itself does not depend on k8s.io/kubelet.
//
// Run it with: cd kubelettest && go test ./...
package kubelettest
