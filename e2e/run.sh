#!/usr/bin/env bash
# End-to-end tests of docker-credential-acr with real parts: the CNCF distribution registry
# (over TLS with a test CA; ACR's token flow with the realm on a dockerauth host served by the
# fake's token server, htpasswd for the registries that are not ACR), real clients (crane, skopeo, regctl) configured only
# through credHelpers, the built helper binary, and the fake Alibaba Cloud API
# (internal/testkit/fakecloud/cmd/fakecloud) as its own process.
#
# Usage: e2e/run.sh            (from anywhere; see e2e/README.md)
#
# This script prepares everything that needs the outside world (apt packages, Go tools from the
# module proxy, the helper and the fake), then runs e2e/scenarios.sh inside private mount, network
# and PID namespaces: the registries listen on 127.0.0.x:443 under real ACR host names (a private
# /etc/hosts), and there is no network interface but loopback, so nothing can leave the machine.
#
# Environment:
#   E2E_TOOLS     where built tools are cached (default ${XDG_CACHE_HOME:-$HOME/.cache}/dca-e2e-tools)
#   E2E_WORK      work directory (default: a fresh temporary directory)
#   E2E_KEEP=1    keep the work directory (logs, registry data) even when everything passed
#   E2E_NO_SKIP=1 count skipped scenarios as failures (for CI that must run them all)
#   E2E_ONLY      space-separated scenario names to run (default: all)
#   E2E_TIMEOUT   seconds allowed for the scenarios (default 600)
#
# Output: one "PASS name", "FAIL name: why" or "SKIP name: why" line per scenario, then
# "e2e: N passed, M failed, K skipped". Exit status 1 on any FAIL.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

# Pinned versions of the tools built from the Go module proxy.
REGISTRY_MOD=github.com/distribution/distribution/v3/cmd/registry
REGISTRY_VERSION=v3.0.0
CRANE_MOD=github.com/google/go-containerregistry/cmd/crane
CRANE_VERSION=v0.20.6
REGCTL_MOD=github.com/regclient/regclient/cmd/regctl
REGCTL_VERSION=v0.11.7

# The scenarios, in order (scenarios.sh defines them).
SCENARIOS=(personal-classic enterprise-default-domain custom-domain-config arn-chain
  ecs-ram-role cache-second-pull anonymous-public registry-rejects-token token-denied-anonymous-401
  default-api-endpoints secret-registries ggcr-keychain)

log() { printf 'e2e: %s\n' "$*" >&2; }

# Any setup failure ends the run with a FAIL line and the summary, never silently.
# The summary is always the last line of the output: cleanup prints SUMMARY after its own notes.
SUMMARY=''
setup_fail() {
  printf 'FAIL setup: %s\n' "$*"
  SUMMARY='e2e: 0 passed, 1 failed, 0 skipped'
  exit 1
}

skip_all() {
  local why=$1 n=0 s
  {
    printf '\n'
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!!! e2e: NOTHING WAS TESTED: %s\n' "$why"
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
  } >&2
  if [ "${E2E_NO_SKIP:-}" = 1 ]; then
    for s in "${SCENARIOS[@]}"; do
      if selected "$s"; then
        printf 'FAIL %s: not run (E2E_NO_SKIP=1): %s\n' "$s" "$why"
        n=$((n + 1))
      fi
    done
    SUMMARY="e2e: 0 passed, $n failed, 0 skipped"
    exit 1
  fi
  for s in "${SCENARIOS[@]}"; do
    if selected "$s"; then
      printf 'SKIP %s: %s\n' "$s" "$why"
      n=$((n + 1))
    fi
  done
  SUMMARY="e2e: 0 passed, 0 failed, $n skipped"
  exit 0
}

selected() {
  [ -z "${E2E_ONLY:-}" ] && return 0
  case " $E2E_ONLY " in *" $1 "*) return 0 ;; esac
  return 1
}

# --- 1. system packages (Debian) ---------------------------------------------------------------

need_packages() {
  # command:package
  local pairs=(skopeo:skopeo htpasswd:apache2-utils openssl:openssl jq:jq curl:curl ip:iproute2 socat:socat
    unshare:util-linux mount:mount timeout:coreutils sha256sum:coreutils gzip:gzip tar:tar)
  local missing=() p
  for p in "${pairs[@]}"; do
    command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" != 0 ]; then
    setup_fail "missing packages and not root: apt-get install ${missing[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 || setup_fail "missing packages and no apt-get: ${missing[*]}"
  log "installing ${missing[*]} (apt)"
  # -o flags keep apt quiet and non-interactive; the package lists are refreshed once.
  if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$WORK/apt.log" 2>&1 ||
    ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$WORK/apt.log" 2>&1; then
    tail -n 20 "$WORK/apt.log" >&2
    setup_fail "apt-get install ${missing[*]} failed (log: $WORK/apt.log)"
  fi
}

# --- 2. Go tools, cached by version ----------------------------------------------------------------

# go_tool NAME MODULE VERSION: prints the path of the cached binary, building it when missing.
go_tool() {
  local name=$1 mod=$2 ver=$3
  local dir="$TOOLS/$name-$ver"
  if [ -x "$dir/$name" ]; then
    printf '%s\n' "$dir/$name"
    return 0
  fi
  log "building $name $ver (go install $mod@$ver; cached in $dir)"
  local tmp
  tmp=$(mktemp -d "$TOOLS/.build-$name.XXXXXX") || return 1
  if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS=-trimpath CGO_ENABLED=0 GOWORK=off go install "$mod@$ver") >"$WORK/build-$name.log" 2>&1; then
    tail -n 20 "$WORK/build-$name.log" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$dir"
  mkdir -p "$dir" && mv "$tmp/$name" "$dir/$name" && rm -rf "$tmp" || return 1
  printf '%s\n' "$dir/$name"
}

# --- main ------------------------------------------------------------------------------------------

START=$(date +%s)
WORK=''
INNER_PID=''
# shellcheck disable=SC2317 # invoked by trap
cleanup() {
  local rc=$?
  if [ -n "$INNER_PID" ] && kill -0 "$INNER_PID" 2>/dev/null; then
    kill "$INNER_PID" 2>/dev/null
    wait "$INNER_PID" 2>/dev/null
  fi
  if [ -n "$WORK" ]; then
    if [ "$rc" = 0 ] && [ "${E2E_KEEP:-}" != 1 ]; then
      rm -rf "$WORK"
    else
      log "work directory kept: $WORK (logs in $WORK/logs)"
    fi
  fi
  log "total $(($(date +%s) - START))s"
  if [ -n "$SUMMARY" ]; then
    printf '%s\n' "$SUMMARY"
  else
    printf 'FAIL e2e: interrupted\ne2e: 0 passed, 1 failed, 0 skipped\n'
    [ "$rc" = 0 ] && rc=1
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v go >/dev/null 2>&1 || setup_fail "go is not on PATH"
TOOLS=${E2E_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/dca-e2e-tools}
mkdir -p "$TOOLS" || setup_fail "cannot create $TOOLS"
if [ -n "${E2E_WORK:-}" ]; then
  if ! { rm -rf "$E2E_WORK" && mkdir -p "$E2E_WORK"; }; then setup_fail "cannot create $E2E_WORK"; fi
  WORK=$(cd "$E2E_WORK" && pwd)
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/dca-e2e.XXXXXX") || setup_fail "cannot create a work directory"
fi
BIN=$WORK/bin
mkdir -p "$BIN/real" || setup_fail "cannot create $BIN"

need_packages

# Private namespaces: mount (own /etc/hosts), network (loopback only), PID (everything started
# inside dies with it). As root this needs no user namespace; otherwise, or where root lacks the
# capability (some containers), try one.
NS=()
ns_err=''
for userns in '' --map-root-user; do
  try=(unshare ${userns:+"$userns"} --mount --net --pid --fork --kill-child --mount-proc)
  if err=$("${try[@]}" sh -c 'ip link set lo up && mount --bind /dev/null /dev/null' 2>&1); then
    NS=("${try[@]}")
    break
  fi
  ns_err+="${ns_err:+; }${try[*]}: ${err:-failed}"
done
if [ ${#NS[@]} -eq 0 ]; then
  skip_all "cannot create private mount+network namespaces here ($ns_err); the scenarios need them to serve real ACR host names on loopback without touching the machine"
fi

# Tools from the Go module proxy only (never a prebuilt binary from elsewhere).
REGISTRY=$(go_tool registry "$REGISTRY_MOD" "$REGISTRY_VERSION") || setup_fail "building the registry failed (log: $WORK/build-registry.log)"
CRANE=$(go_tool crane "$CRANE_MOD" "$CRANE_VERSION") || setup_fail "building crane failed (log: $WORK/build-crane.log)"
REGCTL=$(go_tool regctl "$REGCTL_MOD" "$REGCTL_VERSION") || setup_fail "building regctl failed (log: $WORK/build-regctl.log)"
ln -sf "$REGISTRY" "$BIN/registry"
ln -sf "$CRANE" "$BIN/crane"
ln -sf "$REGCTL" "$BIN/regctl"

# The helper and the fake, from this checkout.
log "building docker-credential-acr, fakecloud and the ggcr keychain's client from $ROOT"
if ! (cd "$ROOT" && GOWORK=off go build -o "$BIN/real/docker-credential-acr" . &&
  GOWORK=off go build -tags fakecloud -o "$BIN/fakecloud" ./internal/testkit/fakecloud/cmd/fakecloud &&
  cd keychain/ggcr && GOWORK=off go build -o "$BIN/ggcr-e2epull" ./internal/e2epull) >"$WORK/build-helper.log" 2>&1; then
  cat "$WORK/build-helper.log" >&2
  setup_fail "go build of the helper, the fake or the ggcr client (keychain/ggcr) failed (log: $WORK/build-helper.log)"
fi
# Clients find the helper as docker-credential-acr on PATH: a thin wrapper that records each
# call (for the assertions) and then answers exactly as the real binary did.
install -m 0755 "$HERE/helper-wrapper.sh" "$BIN/docker-credential-acr"
log "prepared in $(($(date +%s) - START))s: registry $REGISTRY_VERSION, crane $CRANE_VERSION, regctl $REGCTL_VERSION, $(skopeo --version)"

export E2E_WORK_DIR=$WORK E2E_BIN=$BIN E2E_HERE=$HERE
export E2E_SCENARIOS="${SCENARIOS[*]}"
timeout -k 10 "${E2E_TIMEOUT:-600}" "${NS[@]}" bash "$HERE/scenarios.sh" &
INNER_PID=$!
wait "$INNER_PID"
rc=$?
INNER_PID=
# scenarios.sh prints one line per scenario and also appends it to $WORK/results.
results=$WORK/results
touch "$results"
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  printf 'FAIL timeout: the scenarios did not finish in %ss\n' "${E2E_TIMEOUT:-600}" | tee -a "$results"
elif [ "$rc" != 0 ] && ! grep -q '^FAIL' "$results"; then
  printf 'FAIL scenarios: scenarios.sh exited with status %s\n' "$rc" | tee -a "$results"
fi
passed=$(grep -c '^PASS' "$results")
failed=$(grep -c '^FAIL' "$results")
skipped=$(grep -c '^SKIP' "$results")
if [ "${E2E_NO_SKIP:-}" = 1 ] && [ "$skipped" -gt 0 ]; then
  log "E2E_NO_SKIP=1: counting $skipped skipped scenario(s) as failed"
  failed=$((failed + skipped)) skipped=0
fi
SUMMARY="e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
exit $?
