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

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/src/...; replace
# directives of a dependency do not apply, so map each to its published version.
(
	cd "$work"
	printf 'module kubeletbuild\n\ngo 1.26.0\n' >go.mod
	gomod=$(go mod download -json "k8s.io/kubernetes@$KUBELET_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	staging_version=v0${KUBELET_VERSION#v1}
	for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod"); do
		go mod edit -replace "$m=$m@$staging_version"
	done
	go mod edit -require "k8s.io/kubernetes@$KUBELET_VERSION"
	go mod download k8s.io/kubernetes >&2
	major=${KUBELET_VERSION#v}; minor=${major#*.}; major=${major%%.*}; minor=${minor%%.*}
	vpkg=k8s.io/component-base/version
	go build -trimpath -o "$work/kubelet.bin" \
		-ldflags "-s -w -X $vpkg.gitVersion=$KUBELET_VERSION -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean" \
		k8s.io/kubernetes/cmd/kubelet >&2
)
mv "$work/kubelet.bin" "$out/kubelet"
echo "$out"
