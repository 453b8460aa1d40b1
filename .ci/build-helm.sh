#!/usr/bin/env bash
# Builds helm from the Go module proxy (there is no Debian package of helm) and caches it by
# version. Prints the path of the binary. A warm run does nothing but print it.
#
#   HELM_VERSION  helm.sh/helm/v3 version
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/docker-credential-acr-ci
out=$cache_root/helm-$HELM_VERSION-k8s

if [[ -x $out/helm ]]; then
	echo "$out/helm"
	exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The Kubernetes version helm assumes without a cluster (helm template, lint) is set at build time,
# as helm's Makefile does, from the k8s.io/client-go it links (v0.37.x -> 1.37); unset, it is 1.20.
gomod=$(GOFLAGS= go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
k8s_minor=$(sed -n 's#^[[:space:]]*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p' "$gomod" | head -n 1)
[[ -n $k8s_minor ]] || { echo "build-helm.sh: no k8s.io/client-go in $gomod" >&2; exit 1; }
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
	ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
# go install of a version: the module's own go.mod and go.sum pin its dependencies.
GOBIN=$work CGO_ENABLED=0 GOWORK=off GOFLAGS= go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mv "$work/helm" "$out/helm"
echo "$out/helm"
