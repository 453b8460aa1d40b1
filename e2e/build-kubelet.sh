#!/usr/bin/env bash
# Builds the kubelet that e2e/kubelet.sh runs, from the Go module proxy (no prebuilt binaries), and caches it
# by version, as controller/hack/build-kube.sh does for the kube-apiserver. Prints the directory holding it.
#
#   KUBELET_VERSION  k8s.io/kubernetes version. v1.37.x still starts on cgroup v1 (failCgroupV1: false) and
#                    still falls back to its own cgroupDriver when the runtime (containerd 1.6, Debian 12)
#                    does not implement the CRI RuntimeConfig call (cmd/kubelet/app/server.go,
#                    getCgroupDriverFromCRI, which counts it as "losing support in 1.38.0").
#
# A warm run (the binary in the cache) does nothing but print the directory.
set -euo pipefail

KUBELET_VERSION=${KUBELET_VERSION:-v1.37.2}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/docker-credential-acr-ci
out=$cache_root/kubelet-$KUBELET_VERSION

if [[ -x $out/kubelet ]]; then
	echo "$out"
	exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off
# shellcheck source=../controller/hack/k8s-cmd.sh
source "$(dirname "${BASH_SOURCE[0]}")/../controller/hack/k8s-cmd.sh"

build_k8s_cmd "$KUBELET_VERSION" kubelet "$work/kubelet.bin" "$work/kube"
mv "$work/kubelet.bin" "$out/kubelet"
echo "$out"
