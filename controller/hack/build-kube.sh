#!/usr/bin/env bash
# Builds the kube-apiserver and etcd that the controller's tests start on loopback, from the Go module proxy
# (no prebuilt binaries), and caches them by version. Prints the directory holding both binaries.
#
#   KUBE_VERSION  k8s.io/kubernetes version (its staging modules are replaced by their published v0.x twins,
#                 as Kubernetes' own consumers do)
#   ETCD_VERSION  go.etcd.io/etcd/server/v3 version (Debian's etcd-server is too old for this apiserver)
#
# A warm run (both binaries in the cache) does nothing but print the directory.
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/docker-credential-acr-ci
out=$cache_root/kube-$KUBE_VERSION-etcd-$ETCD_VERSION

if [[ -x $out/kube-apiserver && -x $out/etcd ]]; then
	echo "$out"
	exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOWORK=off
# shellcheck source=k8s-cmd.sh
source "$(dirname "${BASH_SOURCE[0]}")/k8s-cmd.sh"
ldflags_common='-s -w'

# etcd: the server module's main package, with the api/client modules at the versions it requires.
mkdir -p "$work/etcd"
(
	cd "$work/etcd"
	printf 'module etcdbuild\n\ngo 1.26.0\n' >go.mod
	go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
	go build -trimpath -ldflags "$ldflags_common" -o "$work/etcd.bin" go.etcd.io/etcd/server/v3 >&2
)

# kube-apiserver, as every Kubernetes command this project builds.
build_k8s_cmd "$KUBE_VERSION" kube-apiserver "$work/kube-apiserver.bin" "$work/kube"

mv "$work/etcd.bin" "$out/etcd"
mv "$work/kube-apiserver.bin" "$out/kube-apiserver"
echo "$out"
