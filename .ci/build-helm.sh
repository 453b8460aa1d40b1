#!/usr/bin/env bash
# Builds helm from the Go module proxy (there is no Debian package of helm) and caches it by
# version. Prints the path of the binary. A warm run does nothing but print it.
#
#   HELM_VERSION  helm.sh/helm/v3 version
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/docker-credential-acr-ci
out=$cache_root/helm-$HELM_VERSION

if [[ -x $out/helm ]]; then
	echo "$out/helm"
	exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# go install of a version: the module's own go.mod and go.sum pin its dependencies.
GOBIN=$work CGO_ENABLED=0 GOWORK=off GOFLAGS= go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
mv "$work/helm" "$out/helm"
echo "$out/helm"
