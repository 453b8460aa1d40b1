#!/usr/bin/env bash
# Opt-in end-to-end scenario: a real kubelet (built from the Go module proxy, e2e/build-kubelet.sh)
# with Debian's containerd pulls a private image from a registry under a real ACR host name through
# docker-credential-acr installed by `docker-credential-acr install-kubelet-plugin`.
#
# Usage: e2e/kubelet.sh   (as root; see e2e/KUBELET.md for what it needs from the machine)
#
# Like e2e/run.sh it prepares everything that needs the outside world first (containerd and runc from
# Debian, the kubelet, the registry and crane from the module proxy, the helper and the fake from this
# checkout), then runs the scenario (e2e/kubelet-scenario.sh) in private mount, network and PID
# namespaces: loopback only, a private /etc/hosts, containerd's root on a private tmpfs, and every
# process (containerd, its shims, the pod's containers, the kubelet) dies with the namespace.
#
# Environment: E2E_TOOLS, E2E_WORK, E2E_KEEP=1, E2E_TIMEOUT (default 600) as for e2e/run.sh;
# KUBELET_VERSION for e2e/build-kubelet.sh.
# Output: "PASS kubelet-pull" or "FAIL kubelet-pull: why" (or "SKIP ..."), then the summary line.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REGISTRY_MOD=github.com/distribution/distribution/v3/cmd/registry
REGISTRY_VERSION=v3.0.0
CRANE_MOD=github.com/google/go-containerregistry/cmd/crane
CRANE_VERSION=v0.20.6

log() { printf 'e2e-kubelet: %s\n' "$*" >&2; }
START=$(date +%s)
WORK='' RESULT=''
cleanup() {
  local rc=$?
  if [ -n "$WORK" ]; then
    if [ "$rc" = 0 ] && [ "${E2E_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else log "work directory kept: $WORK"; fi
  fi
  log "total $(($(date +%s) - START))s"
  [ -n "$RESULT" ] || RESULT='FAIL kubelet-pull: interrupted'
  printf '%s\n' "$RESULT"
  case $RESULT in PASS*) printf 'e2e-kubelet: 1 passed, 0 failed, 0 skipped\n' ;;
  SKIP*) printf 'e2e-kubelet: 0 passed, 0 failed, 1 skipped\n' ;;
  *) printf 'e2e-kubelet: 0 passed, 1 failed, 0 skipped\n'; [ "$rc" = 0 ] && rc=1 ;; esac
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
setup_fail() { RESULT="FAIL kubelet-pull: setup: $*"; exit 1; }

[ "$(id -u)" = 0 ] || setup_fail "needs root (containerd, runc and the kubelet)"
command -v go >/dev/null 2>&1 || setup_fail "go is not on PATH"
TOOLS=${E2E_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/dca-e2e-tools}
mkdir -p "$TOOLS" || setup_fail "cannot create $TOOLS"
if [ -n "${E2E_WORK:-}" ]; then
  rm -rf "$E2E_WORK" && mkdir -p "$E2E_WORK" || setup_fail "cannot create $E2E_WORK"
  WORK=$(cd "$E2E_WORK" && pwd)
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/dca-e2e-kubelet.XXXXXX") || setup_fail "cannot create a work directory"
fi
BIN=$WORK/bin
mkdir -p "$BIN" "$WORK/logs"

# Debian packages.
missing=()
for p in containerd:containerd runc:runc ctr:containerd htpasswd:apache2-utils openssl:openssl jq:jq curl:curl \
  ip:iproute2 unshare:util-linux; do
  command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]} (apt)"
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$WORK/logs/apt.log" 2>&1 ||
    setup_fail "apt-get install ${missing[*]} failed (log: $WORK/logs/apt.log)"
fi

# Go tools from the module proxy, cached by version (the same cache as e2e/run.sh).
go_tool() {
  local name=$1 mod=$2 ver=$3 dir="$TOOLS/$1-$3" tmp
  if [ -x "$dir/$name" ]; then printf '%s\n' "$dir/$name"; return 0; fi
  log "building $name $ver"
  tmp=$(mktemp -d "$TOOLS/.build-$name.XXXXXX") || return 1
  (cd "$tmp" && GOBIN="$tmp" GOFLAGS=-trimpath CGO_ENABLED=0 GOWORK=off go install "$mod@$ver") >"$WORK/logs/build-$name.log" 2>&1 ||
    { rm -rf "$tmp"; return 1; }
  rm -rf "$dir" && mkdir -p "$dir" && mv "$tmp/$name" "$dir/$name" && rm -rf "$tmp" && printf '%s\n' "$dir/$name"
}
REGISTRY=$(go_tool registry "$REGISTRY_MOD" "$REGISTRY_VERSION") || setup_fail "building the registry failed (log: $WORK/logs/build-registry.log)"
CRANE=$(go_tool crane "$CRANE_MOD" "$CRANE_VERSION") || setup_fail "building crane failed (log: $WORK/logs/build-crane.log)"
ln -sf "$REGISTRY" "$BIN/registry" && ln -sf "$CRANE" "$BIN/crane" || setup_fail "cannot link the tools into $BIN"
t0=$(date +%s)
KUBELET_DIR=$(nice -n 19 "$HERE/build-kubelet.sh" 2>"$WORK/logs/build-kubelet.log") ||
  setup_fail "building the kubelet failed: $(tail -n 5 "$WORK/logs/build-kubelet.log")"
log "kubelet ready in $(($(date +%s) - t0))s ($KUBELET_DIR)"
ln -sf "$KUBELET_DIR/kubelet" "$BIN/kubelet"

log "building docker-credential-acr and fakecloud from $ROOT"
(cd "$ROOT" && GOWORK=off go build -o "$BIN/docker-credential-acr" . &&
  GOWORK=off go build -tags fakecloud -o "$BIN/fakecloud" ./internal/testkit/fakecloud/cmd/fakecloud) >"$WORK/logs/build-helper.log" 2>&1 ||
  setup_fail "go build of the helper or the fake failed: $(tail -n 5 "$WORK/logs/build-helper.log")"
"$BIN/docker-credential-acr" install-kubelet-plugin --help >/dev/null 2>&1 ||
  setup_fail "this docker-credential-acr has no install-kubelet-plugin command"

# The image's one program: waits for a signal (the pod's sandbox and its container both run it).
mkdir -p "$WORK/pause-src"
cat >"$WORK/pause-src/main.go" <<'GO'
// Command pause waits until it is told to stop.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	<-c
}
GO
printf 'module pause\n\ngo 1.22\n' >"$WORK/pause-src/go.mod"
(cd "$WORK/pause-src" && CGO_ENABLED=0 GOWORK=off go build -trimpath -ldflags '-s -w' -o "$BIN/pause" .) >"$WORK/logs/build-pause.log" 2>&1 ||
  setup_fail "building the pause program failed: $(tail -n 5 "$WORK/logs/build-pause.log")"
log "prepared in $(($(date +%s) - START))s: kubelet $("$BIN/kubelet" --version 2>&1), $(containerd --version | cut -d' ' -f3), runc $(runc --version | sed -n 's/runc version //p')"

if ! err=$(unshare --mount --net --pid --fork --kill-child --mount-proc sh -c 'ip link set lo up && mount --bind /dev/null /dev/null' 2>&1); then
  RESULT="SKIP kubelet-pull: cannot create private mount+network+PID namespaces here: $err"
  exit 0
fi
export E2E_WORK_DIR=$WORK E2E_BIN=$BIN E2E_HERE=$HERE
timeout -k 10 "${E2E_TIMEOUT:-600}" unshare --mount --net --pid --fork --kill-child --mount-proc \
  bash "$HERE/kubelet-scenario.sh" >"$WORK/logs/scenario.out" 2>&1
rc=$?
RESULT=$(grep -E '^(PASS|FAIL|SKIP) kubelet-pull' "$WORK/logs/scenario.out" | tail -n 1)
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  RESULT="FAIL kubelet-pull: timeout after ${E2E_TIMEOUT:-600}s"
elif [ -z "$RESULT" ]; then
  RESULT="FAIL kubelet-pull: the scenario exited with status $rc: $(tail -n 5 "$WORK/logs/scenario.out" | tr '\n' ' ')"
fi
case $RESULT in FAIL*) tail -n 40 "$WORK/logs/scenario.out" >&2; exit 1 ;; esac
exit 0
