#!/bin/sh
# CycloneDX SBOM of one release archive, from the module graph of the main package as built for
# that archive's GOOS/GOARCH. Called by goreleaser (the sboms section of .goreleaser.yaml) in dist/:
#
#   sh ../packaging/sbom.sh ARCHIVE DOCUMENT GOOS GOARCH VERSION COMMIT_DATE
#
# Offline: GOPROXY=off and -mod=readonly, so it reads only the module cache the build filled and
# fails rather than fetch. Reproducible: no wall-clock timestamp (the commit's date instead), and
# a serial number derived from what the document describes (sha256 of archive name, version, os,
# arch), so two builds of one commit give the same bytes.
#
# cyclonedx-gomod: $CYCLONEDX_GOMOD when set (.ci/release-check.sh builds and caches it), else
# `go run` of the pinned version below (fetched once into the module cache).
set -eu

CYCLONEDX_GOMOD_VERSION=v1.10.0

[ $# -eq 6 ] || { echo "usage: sbom.sh ARCHIVE DOCUMENT GOOS GOARCH VERSION COMMIT_DATE" >&2; exit 2; }
archive=$1 document=$2 goos=$3 goarch=$4 version=$5 date=$6
case $document in /*) ;; *) document=$(pwd)/$document ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)

# The serial: a UUID (RFC 9562 version 8, "custom") from the first 128 bits of a sha256.
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }
h=$(printf '%s\n' "$(basename "$archive")" "$version" "$goos" "$goarch" | sha256 | cut -c1-32)
variant=$(printf '%x' $(( (0x$(printf %s "$h" | cut -c17) & 3) | 8 )))
serial=$(printf '%s-%s-8%s-%s%s-%s' "$(echo "$h" | cut -c1-8)" "$(echo "$h" | cut -c9-12)" \
  "$(echo "$h" | cut -c14-16)" "$variant" "$(echo "$h" | cut -c18-20)" "$(echo "$h" | cut -c21-32)")

if [ -n "${CYCLONEDX_GOMOD:-}" ]; then
  set -- "$CYCLONEDX_GOMOD"
else
  set -- go run "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_GOMOD_VERSION"
fi

tmp=$document.tmp
cd "$root"
GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 GOFLAGS=-mod=readonly GOPROXY=off GOTOOLCHAIN=local GOWORK=off \
  "$@" app -json -std -licenses -notimestamp -serial "$serial" -main . -output "$tmp" .

# The commit's date (goreleaser's .CommitDate: UTC, RFC 3339) as the document's timestamp,
# inserted as metadata's first member; the helper's own licence (LICENSE, Apache-2.0) as its
# component's (cyclonedx-gomod detects none for the main module).
stamp=$date
head -n 2 "$root/LICENSE" | grep -q "Apache License" && sed -n 3p "$root/LICENSE" | grep -q "Version 2.0" ||
  { echo "sbom.sh: LICENSE is not the Apache License 2.0 that the SBOM is to name" >&2; exit 1; }
sed -e '0,/^  "metadata": {$/s//  "metadata": {\n    "timestamp": "'"$stamp"'",/' \
  -e '0,/^    "component": {$/s//    "component": {\n      "licenses": [{"license": {"id": "Apache-2.0"}}],/' "$tmp" >"$document"
rm -f "$tmp"
grep -q "\"timestamp\": \"$stamp\"" "$document" || { echo "sbom.sh: could not stamp $document" >&2; exit 1; }
grep -q "\"serialNumber\": \"urn:uuid:$serial\"" "$document" || { echo "sbom.sh: no serial in $document" >&2; exit 1; }
grep -q '"licenses": \[{"license": {"id": "Apache-2.0"}}\]' "$document" || { echo "sbom.sh: could not give the licence in $document" >&2; exit 1; }
