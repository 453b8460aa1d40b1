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
ldflags_common='-s -w'

# etcd: the server module's main package, with the api/client modules at the versions it requires.
mkdir -p "$work/etcd"
(
	cd "$work/etcd"
	printf 'module etcdbuild\n\ngo 1.26.0\n' >go.mod
	go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2
	go build -trimpath -ldflags "$ldflags_common" -o "$work/etcd.bin" go.etcd.io/etcd/server/v3 >&2
)

# kube-apiserver: k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
# ./staging/src/...; replace directives of a dependency do not apply, so map each to its published version.
mkdir -p "$work/kube"
(
	cd "$work/kube"
	printf 'module kubebuild\n\ngo 1.26.0\n' >go.mod
	gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	staging_version=v0${KUBE_VERSION#v1}
	for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod"); do
		go mod edit -replace "$m=$m@$staging_version"
	done
	go mod edit -require "k8s.io/kubernetes@$KUBE_VERSION"
	go mod download k8s.io/kubernetes >&2
	major=${KUBE_VERSION#v}; minor=${major#*.}; major=${major%%.*}; minor=${minor%%.*}
	vpkg=k8s.io/component-base/version
	go build -trimpath -o "$work/kube-apiserver.bin" \
		-ldflags "$ldflags_common -X $vpkg.gitVersion=$KUBE_VERSION -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean" \
		k8s.io/kubernetes/cmd/kube-apiserver >&2
)

mv "$work/etcd.bin" "$out/etcd"
mv "$work/kube-apiserver.bin" "$out/kube-apiserver"
echo "$out"
