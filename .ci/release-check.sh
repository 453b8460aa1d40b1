#!/usr/bin/env bash
# Release check for docker-credential-acr:
#   1. installs goreleaser (go install from the Go module proxy, cached in ~/.cache/dca-tools),
#   2. `goreleaser check`,
#   3. two `goreleaser release --snapshot --clean --skip=publish` of the same commit, from two
#      clones at different paths, the second with an empty Go build cache (everything compiled
#      anew), and compares every artifact's sha256 (archives, raw binaries, checksums file),
#   4. rebuilds every binary with plain `go build` and the documented flags and compares it with
#      goreleaser's (so anyone can reproduce a release without goreleaser),
#   5. runs the linux/amd64 binary's `version`.
# Prints the artifacts with their sizes and one summary line; exits non-zero on any failure.
#
# It checks the committed HEAD (a clone of it), as CI sees it. Environment:
#   DCA_RELEASE_SOURCE=worktree  check the working tree instead (tracked and untracked, not ignored,
#                                files), committed into a scratch repository
#   DCA_RELEASE_NO_GORELEASER=1  skip goreleaser: only the go build reproducibility check (two
#                                builds per target from two paths, the second with an empty cache)
#   DCA_RELEASE_FRESH_CACHE=0    let the second build use the usual Go build cache (faster, weaker)
#   DCA_TOOLS                    where tools are cached (default ~/.cache/dca-tools)
# The snapshot of the first build is left in dist/ (ignored by git).
set -euo pipefail

GORELEASER_VERSION=v2.15.1 # v2.16+ needs a module the proxy here refuses (go.digitalxero.dev/go-msix)
TARGETS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
KUBELET_TARGETS="linux/amd64 linux/arm64 windows/amd64 windows/arm64" # also built as acr-credential-provider

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${DCA_TOOLS:-$HOME/.cache/dca-tools}
export PATH="/usr/local/go/bin:$PATH"
export GOFLAGS="" # the flags that matter are in .goreleaser.yaml and below, nothing from outside
export CGO_ENABLED=0
export NO_COLOR=1
plain() { sed 's/\x1b\[[0-9;]*m//g'; } # goreleaser colours its output when CI is set, NO_COLOR or not
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
say() { printf 'release-check: %s\n' "$*"; }
fail() { printf 'release-check: FAILED: %s\n' "$*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dca-release.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

command -v go >/dev/null || fail "go is not installed"
command -v git >/dev/null || fail "git is not installed"
say "$(go version)"

# --- goreleaser -------------------------------------------------------------------------------
GORELEASER=""
if [ "${DCA_RELEASE_NO_GORELEASER:-0}" != 1 ]; then
  bin="$TOOLS/goreleaser-$GORELEASER_VERSION/goreleaser"
  if [ ! -x "$bin" ]; then
    say "building goreleaser $GORELEASER_VERSION into $TOOLS (once per machine; about 4 minutes on 2 cores)"
    t0=$(date +%s)
    tmpbin="$WORK/gobin"
    mkdir -p "$tmpbin" "$(dirname "$bin")"
    if ! GOTOOLCHAIN=local GOBIN="$tmpbin" timeout 1200 go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION" </dev/null; then
      fail "could not build goreleaser $GORELEASER_VERSION (DCA_RELEASE_NO_GORELEASER=1 runs the go build check alone)"
    fi
    mv "$tmpbin/goreleaser" "$bin"
    say "goreleaser built in $(( $(date +%s) - t0 ))s"
  fi
  GORELEASER=$bin
  say "goreleaser $("$GORELEASER" --version 2>/dev/null | sed -n 's/^GitVersion: *//p' | head -n1)"
fi

# --- the source: two clones of one commit at two different paths ---------------------------------
cd "$ROOT"
if [ "${DCA_RELEASE_SOURCE:-head}" = worktree ]; then
  SRC="$WORK/src"
  mkdir -p "$SRC"
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] || continue # deleted but not staged
    mkdir -p "$SRC/$(dirname "$f")"
    cp -p "$f" "$SRC/$f"
  done
  when=$(git log -1 --format=%cI 2>/dev/null || echo 2000-01-01T00:00:00Z)
  (cd "$SRC" && git init -q && git add -A &&
    GIT_AUTHOR_NAME=release-check GIT_AUTHOR_EMAIL=release-check@invalid GIT_AUTHOR_DATE="$when" \
    GIT_COMMITTER_NAME=release-check GIT_COMMITTER_EMAIL=release-check@invalid GIT_COMMITTER_DATE="$when" \
    git -c commit.gpgsign=false commit -q -m "working tree of $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)")
  say "checking the working tree (scratch commit $(git -C "$SRC" rev-parse --short HEAD))"
else
  SRC="$ROOT"
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || [ -n "$(git ls-files --others --exclude-standard | head -n1)" ]; then
    say "note: the working tree has changes that are not committed; checking the committed HEAD only (DCA_RELEASE_SOURCE=worktree checks them)"
  fi
  say "checking commit $(git rev-parse --short HEAD)"
fi
A="$WORK/a/docker-credential-acr"
B="$WORK/second-checkout/somewhere/else"
mkdir -p "$(dirname "$A")" "$(dirname "$B")"
git clone -q --no-hardlinks "$SRC" "$A"
git clone -q --no-hardlinks "$SRC" "$B"
[ -f "$A/.goreleaser.yaml" ] || fail "the checked commit has no .goreleaser.yaml (goreleaser's defaults are not reproducible)"
COMMIT=$(git -C "$A" rev-parse HEAD)
SHORT=$(git -C "$A" rev-parse --short HEAD)

FRESH_CACHE="$WORK/gocache-fresh"
second_cache() {
  if [ "${DCA_RELEASE_FRESH_CACHE:-1}" = 1 ]; then echo "$FRESH_CACHE"; else go env GOCACHE; fi
}

compare_trees() { # dirA dirB: every file's sha256 equal, same file set; prints the count
  local a=$1 b=$2 n=0 bad=0 f
  (cd "$a" && find . -type f | sort) >"$WORK/files.a"
  (cd "$b" && find . -type f | sort) >"$WORK/files.b"
  if ! diff -u "$WORK/files.a" "$WORK/files.b" >&2; then
    fail "the two builds made different sets of files"
  fi
  while IFS= read -r f; do
    n=$((n + 1))
    if [ "$(sha "$a/$f")" != "$(sha "$b/$f")" ]; then
      say "DIFFERS: ${f#./}" >&2
      bad=$((bad + 1))
    fi
  done <"$WORK/files.a"
  [ "$bad" = 0 ] || fail "$bad of $n artifacts differ between two builds of $SHORT"
  echo "$n"
}

gobuild() { # checkout outdir version  (GOCACHE from the environment)
  local dir=$1 out=$2 version=$3 t os arch ext name
  for t in $TARGETS; do
    os=${t%/*} arch=${t#*/} ext=""
    [ "$os" = windows ] && ext=.exe
    name="docker-credential-acr_${os}_${arch}$ext"
    (cd "$dir" && GOOS=$os GOARCH=$arch timeout 600 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=$version -X main.commit=$COMMIT" -o "$out/$name" . </dev/null) ||
      fail "go build $t"
  done
}

if [ -n "$GORELEASER" ]; then
  # --- goreleaser check and two snapshot releases ------------------------------------------------
  if ! (cd "$A" && "$GORELEASER" check </dev/null 2>&1) | plain; then fail "goreleaser check"; fi

  snapshot() { # checkout logfile
    (cd "$1" && timeout 900 "$GORELEASER" release --snapshot --clean --skip=publish </dev/null >"$2" 2>&1) || {
      tail -n 40 "$2" | plain
      fail "goreleaser release --snapshot in $1"
    }
  }
  t0=$(date +%s)
  snapshot "$A" "$WORK/snapshot-a.log"
  T_A=$(( $(date +%s) - t0 ))
  say "snapshot 1 (usual build cache) in ${T_A}s"
  t0=$(date +%s)
  GOCACHE=$(second_cache) snapshot "$B" "$WORK/snapshot-b.log"
  T_B=$(( $(date +%s) - t0 ))
  say "snapshot 2 (other path, build cache $( [ "$(second_cache)" = "$FRESH_CACHE" ] && echo empty || echo usual )) in ${T_B}s"

  VERSION=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$A/dist/metadata.json" | head -n1)
  [ -n "$VERSION" ] || fail "no version in dist/metadata.json"

  # What is published: everything in dist/ but goreleaser's own records (metadata.json and
  # artifacts.json hold the build's date and paths, config.yaml the resolved configuration).
  collect() { # dist out
    local d=$1 o=$2
    mkdir -p "$o"
    find "$d" -type f ! -name metadata.json ! -name artifacts.json ! -name config.yaml | while IFS= read -r f; do
      mkdir -p "$o/$(dirname "${f#"$d"/}")"
      cp -p "$f" "$o/${f#"$d"/}"
    done
  }
  collect "$A/dist" "$WORK/out-a"
  collect "$B/dist" "$WORK/out-b"
  N=$(compare_trees "$WORK/out-a" "$WORK/out-b")
  say "all $N artifacts of the two snapshot builds are byte-identical"

  # The published artifacts are the names in the checksums file. Archives are files in dist/;
  # a raw binary <binary>_<version>_<os>_<arch>[.exe] is the build output
  # dist/<binary>_<os>_<arch>_<level>/<binary>[.exe], uploaded under that name.
  CHECKSUMS="$A/dist/docker-credential-acr_${VERSION}_checksums.txt"
  [ -f "$CHECKSUMS" ] || fail "missing the checksums file"
  locate() { # published name -> its file in dist/
    local n=$1 ext="" base bin rest
    if [ -f "$A/dist/$n" ]; then echo "$A/dist/$n"; return; fi
    base=$n
    case $n in *.exe) ext=.exe base=${n%.exe} ;; esac
    bin=${base%%_*} rest=${base#*_"$VERSION"_}
    set -- "$A/dist/${bin}_${rest}"_*/"$bin$ext"
    [ -f "$1" ] && echo "$1"
  }
  expected=""
  for t in $TARGETS; do
    os=${t%/*} arch=${t#*/} ext=tar.gz bext=""
    [ "$os" = windows ] && ext=zip bext=.exe
    expected="$expected docker-credential-acr_${VERSION}_${os}_${arch}.$ext docker-credential-acr_${VERSION}_${os}_${arch}$bext"
  done
  for t in $KUBELET_TARGETS; do
    os=${t%/*} arch=${t#*/} bext=""
    [ "$os" = windows ] && bext=.exe
    expected="$expected acr-credential-provider_${VERSION}_${os}_${arch}$bext"
  done
  for n in $expected; do
    grep -q "  $n\$" "$CHECKSUMS" || fail "$n is not in the checksums file"
  done
  n_expected=$(echo "$expected" | wc -w)
  [ "$(wc -l <"$CHECKSUMS")" = "$n_expected" ] || fail "the checksums file lists $(wc -l <"$CHECKSUMS") artifacts, expected $n_expected"
  while read -r sum n; do
    f=$(locate "$n") || fail "no file for $n"
    [ "$(sha "$f")" = "$sum" ] || fail "$n does not match the checksums file"
  done <"$CHECKSUMS"

  # --- plain go build gives the same binaries ------------------------------------------------------
  t0=$(date +%s)
  GOCACHE=$(second_cache) gobuild "$B" "$WORK/gobuild" "$VERSION"
  T_GO=$(( $(date +%s) - t0 ))
  for t in $TARGETS; do
    os=${t%/*} arch=${t#*/} bext=""
    [ "$os" = windows ] && bext=.exe
    [ "$(sha "$WORK/gobuild/docker-credential-acr_${os}_${arch}$bext")" = "$(sha "$(locate "docker-credential-acr_${VERSION}_${os}_${arch}$bext")")" ] ||
      fail "go build of $t differs from goreleaser's binary"
  done
  say "go build with the documented flags reproduces all 6 goreleaser binaries (${T_GO}s)"
  BIN_LINUX=$(locate "docker-credential-acr_${VERSION}_linux_amd64")

  rm -rf "$ROOT/dist"
  cp -a "$A/dist" "$ROOT/dist"
  say "published artifacts (bytes, sha256; the snapshot is in $ROOT/dist):"
  while read -r sum n; do printf '  %10d  %.16s  %s\n' "$(size "$(locate "$n")")" "$sum" "$n"; done <"$CHECKSUMS"
  SUMMARY="goreleaser $GORELEASER_VERSION check passed; 2 snapshot builds of $SHORT ($VERSION) from different paths: all $N files byte-identical ($n_expected published artifacts + checksums); go build reproduces the 6 binaries"
else
  # --- no goreleaser: two go builds per target ------------------------------------------------------
  VERSION="0.0.1-snapshot.$SHORT"
  t0=$(date +%s)
  gobuild "$A" "$WORK/build-a" "$VERSION"
  T_A=$(( $(date +%s) - t0 ))
  t0=$(date +%s)
  GOCACHE=$(second_cache) gobuild "$B" "$WORK/build-b" "$VERSION"
  T_B=$(( $(date +%s) - t0 ))
  N=$(compare_trees "$WORK/build-a" "$WORK/build-b")
  say "builds in ${T_A}s and ${T_B}s; binaries:"
  (cd "$WORK/build-a" && for f in *; do printf '  %10d  %s  %s\n' "$(size "$f")" "$(sha "$f" | cut -c1-16)" "$f"; done)
  BIN_LINUX="$WORK/build-a/docker-credential-acr_linux_amd64"
  SUMMARY="goreleaser skipped; 2 go builds of $SHORT ($VERSION) from different paths: all $N binaries byte-identical"
fi

# --- the binary says what it is ------------------------------------------------------------------
if [ "$(go env GOHOSTOS)/$(go env GOHOSTARCH)" = linux/amd64 ]; then
  out=$("$BIN_LINUX" version </dev/null)
  say "version: $out"
  case "$out" in
    *"$VERSION"*"$COMMIT"*go1.*) ;;
    *) fail "version does not print version $VERSION, commit $COMMIT and the Go version" ;;
  esac
fi

say "OK in $(elapsed)s: $SUMMARY"
