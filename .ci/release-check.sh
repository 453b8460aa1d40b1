#!/usr/bin/env bash
# Release check for docker-credential-acr:
#   1. installs goreleaser and cyclonedx-gomod (go install from the Go module proxy, cached by
#      version in ~/.cache/dca-tools; cyclonedx-gomod at the version packaging/sbom.sh pins),
#   2. `goreleaser check`,
#   3. two `goreleaser release --snapshot --clean --skip=publish` of the same commit, from two
#      clones at different paths, the second with an empty Go build cache (everything compiled
#      anew), and compares every file's sha256 (archives, raw binaries, .deb/.rpm/.apk, SBOMs,
#      checksums file, Homebrew formula),
#   4. checks the checksums file lists exactly the published artifacts, each SBOM is CycloneDX and
#      names every module linked into its binary, the formula carries the archives' sha256,
#   5. rebuilds every binary with plain `go build` and the documented flags and compares it with
#      goreleaser's (so anyone can reproduce a release without goreleaser),
#   6. lists each package's files (dpkg-deb -c, rpm -qlvp when rpm is installed or installable,
#      tar for the .apk) and checks the paths they must install,
#   7. unpacks the host's .deb into a throwaway root (dpkg-deb -x) and runs the installed binary's
#      `version`, a `get` and the kubelet plugin (by its symlinked name) against the fake Alibaba
#      Cloud API on loopback, with a clean environment,
#   8. runs the linux/amd64 binary's `version`.
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
# tool NAME MODULE/PKG VERSION: builds a Go tool once per version into $TOOLS/NAME-VERSION/NAME
# (go install from the Go module proxy) and prints its path.
tool() {
  local name=$1 pkg=$2 version=$3 bin t0 tmpbin
  bin="$TOOLS/$name-$version/$name"
  if [ ! -x "$bin" ]; then
    say "building $name $version into $TOOLS (once per machine and version)" >&2
    t0=$(date +%s)
    tmpbin="$WORK/gobin-$name"
    mkdir -p "$tmpbin" "$(dirname "$bin")"
    if ! GOTOOLCHAIN=local GOBIN="$tmpbin" GOFLAGS="" timeout 1800 go install "$pkg@$version" </dev/null >&2; then
      fail "could not build $name $version (DCA_RELEASE_NO_GORELEASER=1 runs the go build check alone)"
    fi
    mv "$tmpbin/$name" "$bin"
    say "$name built in $(( $(date +%s) - t0 ))s" >&2
  fi
  echo "$bin"
}

GORELEASER=""
if [ "${DCA_RELEASE_NO_GORELEASER:-0}" != 1 ]; then
  # goreleaser: about 4 minutes on 2 cores; cyclonedx-gomod (the SBOMs): about 1 minute.
  GORELEASER=$(tool goreleaser "github.com/goreleaser/goreleaser/v2" "$GORELEASER_VERSION")
  say "goreleaser $("$GORELEASER" --version 2>/dev/null | sed -n 's/^GitVersion: *//p' | head -n1)"
  # The version packaging/sbom.sh pins, so that goreleaser's SBOMs and this cache agree.
  CYCLONEDX_VERSION=$(sed -n 's/^CYCLONEDX_GOMOD_VERSION=\(v[0-9.]*\)$/\1/p' "$ROOT/packaging/sbom.sh")
  [ -n "$CYCLONEDX_VERSION" ] || fail "packaging/sbom.sh pins no CYCLONEDX_GOMOD_VERSION"
  CYCLONEDX_GOMOD=$(tool cyclonedx-gomod "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod" "$CYCLONEDX_VERSION")
  export CYCLONEDX_GOMOD
  say "cyclonedx-gomod $CYCLONEDX_VERSION"
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

  snapshot() { # checkout logfile [command prefix...]
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && timeout 900 "$@" "$GORELEASER" release --snapshot --clean --skip=publish </dev/null >"$log" 2>&1) || {
      tail -n 40 "$log" | plain
      fail "goreleaser release --snapshot in $dir"
    }
  }
  t0=$(date +%s)
  snapshot "$A" "$WORK/snapshot-a.log"
  T_A=$(( $(date +%s) - t0 ))
  say "snapshot 1 (usual build cache) in ${T_A}s"
  # The second build changes what must not matter: the checkout path, the build cache, the umask,
  # the time zone and, where a UTS namespace can be made, the host name (rpm records one).
  OTHER_HOST=()
  OTHER_DESC=""
  if [ "$(id -u)" = 0 ] && unshare --uts true 2>/dev/null; then
    OTHER_HOST=(unshare --uts sh -c 'hostname release-check-elsewhere && exec "$@"' sh)
    OTHER_DESC=", host name release-check-elsewhere"
  fi
  t0=$(date +%s)
  (umask 077 && GOCACHE=$(second_cache) TZ=Pacific/Kiritimati snapshot "$B" "$WORK/snapshot-b.log" ${OTHER_HOST[@]+"${OTHER_HOST[@]}"})
  T_B=$(( $(date +%s) - t0 ))
  say "snapshot 2 (other path, build cache $( [ "$(second_cache)" = "$FRESH_CACHE" ] && echo empty || echo usual ), umask 077, TZ=Pacific/Kiritimati$OTHER_DESC) in ${T_B}s"

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
    # the archive's SBOM
    expected="$expected docker-credential-acr_${VERSION}_${os}_${arch}.$ext.cdx.json"
  done
  # The packages: a .deb, an .rpm and an .apk for each linux architecture (nfpm's conventional
  # names: amd64/arm64 for deb, x86_64/aarch64 for rpm and apk).
  PACKAGES=""
  for pat in '*_amd64.deb' '*_arm64.deb' '*.x86_64.rpm' '*.aarch64.rpm' '*_x86_64.apk' '*_aarch64.apk'; do
    set -- "$A/dist"/$pat
    [ $# = 1 ] && [ -f "$1" ] || fail "want one package $pat in dist/, found: $(cd "$A/dist" && echo $pat)"
    PACKAGES="$PACKAGES ${1##*/}"
  done
  expected="$expected $PACKAGES"
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

  # --- the SBOMs: CycloneDX, reproducible, and naming every module linked into the binary -------------
  for t in $TARGETS; do
    os=${t%/*} arch=${t#*/} ext=tar.gz bext=""
    [ "$os" = windows ] && ext=zip bext=.exe
    doc="$A/dist/docker-credential-acr_${VERSION}_${os}_${arch}.$ext.cdx.json"
    jq -e '.bomFormat == "CycloneDX" and (.serialNumber | startswith("urn:uuid:")) and (.metadata.timestamp | length > 0)' "$doc" >/dev/null ||
      fail "${doc##*/} is not a CycloneDX document with a serial number and a timestamp"
    # Every module of the binary's build info (go version -m) is a component, at its version.
    go version -m "$(locate "docker-credential-acr_${VERSION}_${os}_${arch}$bext")" | awk '$1 == "dep" { print "pkg:golang/" $2 "@" $3 }' | sort >"$WORK/linked"
    jq -r '.. | objects | select(has("purl")) | .purl | sub("\\?.*$"; "")' "$doc" | sort -u >"$WORK/listed"
    missing=$(comm -23 "$WORK/linked" "$WORK/listed")
    [ -z "$missing" ] || fail "${doc##*/} lacks modules linked into the $t binary: $missing"
    [ -s "$WORK/linked" ] || fail "no build info in the $t binary"
    jq -e '[.metadata.component.licenses[]?.license.id] | index("Apache-2.0")' "$doc" >/dev/null ||
      fail "${doc##*/} does not give the helper's licence (Apache-2.0) in metadata.component.licenses"
  done
  say "SBOMs: 6 CycloneDX documents, each naming all $(wc -l <"$WORK/linked") modules linked into its binary (linux/amd64 shown last)"

  # --- the Homebrew formula names the release's archives and their checksums --------------------------
  FORMULA="$A/dist/homebrew/Formula/docker-credential-acr.rb"
  [ -f "$FORMULA" ] || fail "no Homebrew formula at dist/homebrew/Formula/docker-credential-acr.rb"
  for t in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do
    os=${t%/*} arch=${t#*/}
    n="docker-credential-acr_${VERSION}_${os}_${arch}.tar.gz"
    grep -q "$n" "$FORMULA" || fail "the formula does not name $n"
    grep -q "sha256 \"$(sha "$A/dist/$n")\"" "$FORMULA" || fail "the formula does not carry the sha256 of $n"
  done
  grep -q 'man1.install "docker-credential-acr.1"' "$FORMULA" || fail "the formula does not install the man page"
  grep -q 'license "Apache-2.0"' "$FORMULA" || fail "the formula does not give the licence (Apache-2.0)"

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

  # --- the packages: what they install -------------------------------------------------------------
  PLUGIN=usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec/acr-credential-provider
  MAN=usr/share/man/man1/docker-credential-acr.1.gz
  WANT_PATHS="usr/bin/docker-credential-acr $PLUGIN $MAN usr/share/doc/docker-credential-acr/README.md usr/share/doc/docker-credential-acr/LICENSE"
  if ! command -v rpm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # Only to list the .rpm (rpm -qlp) and check its digests; the check goes on without it.
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rpm >"$WORK/apt.log" 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rpm; } >>"$WORK/apt.log" 2>&1) ||
      say "note: could not install rpm (apt-get); the .rpm files are not listed"
  fi
  say "package contents:"
  for p in $PACKAGES; do
    f="$A/dist/$p"
    case $p in
      *.deb) dpkg-deb -c "$f" | awk '{ print $1, $2, $6, $7, $8 }' | sed 's| \./| /|' >"$WORK/list" ;;
      *.rpm)
        if command -v rpm >/dev/null; then
          rpm -K --nosignature "$f" >/dev/null || fail "$p: rpm -K finds a bad digest"
          rpm -qlvp "$f" 2>/dev/null | awk '{ print $1, $3 "/" $4, $9, $10, $11 }' >"$WORK/list"
        else
          : >"$WORK/list"
        fi
        ;;
      *.apk) tar --ignore-zeros -tvzf "$f" 2>/dev/null | awk '{ print $1, $2, "/" $6, $7, $8 }' >"$WORK/list" ;;
    esac
    if [ ! -s "$WORK/list" ]; then say "  $p: (rpm not installed: not listed)"; continue; fi
    say "  $p ($(size "$f") bytes):"
    sed 's/ *$//; s/^/      /' "$WORK/list"
    for w in $WANT_PATHS; do
      grep -q " /$w\( \|$\)" "$WORK/list" || fail "$p does not install /$w"
    done
    case $p in # the licence in the package's metadata (a .deb has no such field; it ships LICENSE)
      *.rpm) [ "$(rpm -qp --qf '%{LICENSE}' "$f" 2>/dev/null)" = Apache-2.0 ] || fail "$p: the rpm License is not Apache-2.0" ;;
      *.apk) tar --ignore-zeros -xzOf "$f" .PKGINFO 2>/dev/null | grep -qx 'license = Apache-2.0' || fail "$p: .PKGINFO does not say license = Apache-2.0" ;;
    esac
    grep -q " /$PLUGIN -> \.\./\.\./\.\./\.\./\.\./bin/docker-credential-acr$" "$WORK/list" ||
      fail "$p: /$PLUGIN is not the relative symlink to /usr/bin/docker-credential-acr"
  done

  # --- the .deb in a throwaway root: version, get and the kubelet plugin against the fake ---------------
  if [ "$(go env GOHOSTOS)" = linux ]; then
    HOSTARCH=$(go env GOHOSTARCH)
    DEB=""
    for p in $PACKAGES; do case $p in *_"$HOSTARCH".deb) DEB=$p ;; esac; done
    [ -n "$DEB" ] || fail "no .deb for $HOSTARCH"
    ROOTFS="$WORK/rootfs"
    mkdir -p "$ROOTFS"
    dpkg-deb -x "$A/dist/$DEB" "$ROOTFS"
    say "installed $DEB into a throwaway root ($(dpkg-deb -f "$A/dist/$DEB" Package Version Architecture | tr '\n' ' '))"
    INSTALLED="$ROOTFS/usr/bin/docker-credential-acr"
    [ "$(sha "$INSTALLED")" = "$(sha "$(locate "docker-credential-acr_${VERSION}_linux_${HOSTARCH}")")" ] ||
      fail "the .deb's /usr/bin/docker-credential-acr is not the release's linux/$HOSTARCH binary"
    [ "$(readlink -f "$ROOTFS/$PLUGIN")" = "$(readlink -f "$INSTALLED")" ] || fail "/$PLUGIN does not resolve to the installed binary"
    if command -v groff >/dev/null; then
      warn=$(gzip -dc "$ROOTFS/$MAN" | groff -man -ww -z 2>&1) && [ -z "$warn" ] || fail "the installed man page does not render cleanly: $warn"
    fi

    # The fake Alibaba Cloud API, with one RAM user and a fixed Personal Edition token.
    (cd "$A" && go build -tags fakecloud -o "$WORK/fakecloud" ./internal/testkit/fakecloud/cmd/fakecloud </dev/null) || fail "go build of the fake"
    cat >"$WORK/scenario.json" <<'JSON'
{
  "users": [{"account": "1234567890123456", "name": "release-check", "accessKeyId": "LTAI5tFakeReleaseChk01",
             "accessKeySecret": "fakeSecretReleaseCheck00000000001", "registryPassword": true}],
  "fixedTokens": {"": "release-check-personal-token"}
}
JSON
    "$WORK/fakecloud" -scenario "$WORK/scenario.json" >"$WORK/fake.out" 2>"$WORK/fake.log" </dev/null &
    FAKE_PID=$!
    # (|| true: under set -e a failing command in an EXIT trap would become the script's status.)
    trap 'kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
    FAKE_URL=""
    for _ in $(seq 1 300); do
      FAKE_URL=$(awk '$1 == "listening" { print $2 }' "$WORK/fake.out")
      [ -n "$FAKE_URL" ] && break
      kill -0 "$FAKE_PID" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$FAKE_URL" ] || fail "the fake did not start: $(tail -n 5 "$WORK/fake.log")"
    case $FAKE_URL in http://127.0.0.1:*) ;; *) fail "the fake listens on $FAKE_URL, not on loopback" ;; esac
    # A clean environment: no ALIBABA_CLOUD_* but the fake user's key, no proxies, HOME and the XDG
    # directories in the work dir, the API endpoints on the fake, no ECS metadata.
    installed() {
      mkdir -p "$WORK/home"
      env -i PATH=/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 \
        XDG_CONFIG_HOME="$WORK/home/.config" XDG_CONFIG_DIRS="$WORK/home/xdg" \
        XDG_CACHE_HOME="$WORK/home/.cache" XDG_DATA_HOME="$WORK/home/.local/share" \
        DOCKER_CREDENTIAL_ACR_CR_ENDPOINT="$FAKE_URL" ALIBABA_CLOUD_STS_ENDPOINT="$FAKE_URL" \
        ALIBABA_CLOUD_ECS_METADATA_DISABLED=true \
        ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tFakeReleaseChk01 ALIBABA_CLOUD_ACCESS_KEY_SECRET=fakeSecretReleaseCheck00000000001 \
        timeout -k 5 60 "$@"
    }
    out=$(installed "$INSTALLED" version </dev/null) || fail "the installed binary's version failed"
    case "$out" in *"$VERSION"*"$COMMIT"*) ;; *) fail "installed version: want $VERSION and $COMMIT, got: $out" ;; esac
    say "installed /usr/bin/docker-credential-acr version: $out"
    out=$(printf 'registry.cn-hangzhou.aliyuncs.com\n' | installed "$INSTALLED" get 2>"$WORK/get.err") ||
      fail "installed get failed: $(cat "$WORK/get.err")"
    jq -e '. == {"ServerURL": "registry.cn-hangzhou.aliyuncs.com", "Username": "cr_temp_user", "Secret": "release-check-personal-token"}' \
      >/dev/null <<<"$out" || fail "installed get: unexpected answer (not printed: it holds a secret)"
    say "installed get registry.cn-hangzhou.aliyuncs.com: ServerURL and Username cr_temp_user with the fake's Personal Edition token"
    req='{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.cn-hangzhou.aliyuncs.com/ns/app:1.0"}'
    out=$(printf '%s' "$req" | installed "$ROOTFS/$PLUGIN" 2>"$WORK/kubelet.err") ||
      fail "the installed kubelet plugin failed: $(cat "$WORK/kubelet.err")"
    jq -e '.kind == "CredentialProviderResponse" and .apiVersion == "credentialprovider.kubelet.k8s.io/v1" and
        .auth["registry.cn-hangzhou.aliyuncs.com"].username == "cr_temp_user" and
        .auth["registry.cn-hangzhou.aliyuncs.com"].password == "release-check-personal-token"' >/dev/null <<<"$out" ||
      fail "the installed kubelet plugin: unexpected answer (not printed: it holds a secret)"
    say "installed /$PLUGIN (kubelet protocol by its name): CredentialProviderResponse for registry.cn-hangzhou.aliyuncs.com"
    kill "$FAKE_PID" 2>/dev/null || true; wait "$FAKE_PID" 2>/dev/null || true
    trap 'rm -rf "$WORK"' EXIT
    DEB_SUMMARY="; the .deb installs and answers version, get and the kubelet protocol against the fake"
  fi

  SUMMARY="goreleaser $GORELEASER_VERSION check passed; 2 snapshot builds of $SHORT ($VERSION) from different paths: all $N files byte-identical ($n_expected published artifacts incl. $(echo "$PACKAGES" | wc -w) packages and 6 SBOMs, + checksums, formula); go build reproduces the 6 binaries${DEB_SUMMARY:-}"
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
