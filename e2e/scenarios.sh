#!/usr/bin/env bash
# The e2e scenarios. e2e/run.sh runs this file inside private mount, network and PID namespaces
# after it has built everything; do not run it directly.
#
# Inside: loopback is the only interface; a private /etc/hosts maps real ACR host names to
# 127.0.0.x where distribution registries listen on :443 (TLS with a test CA). The ACR registries
# speak ACR's login flow: token authentication whose realm is a dockerauth[-ee].<region> host
# served by the fake's token server (fakecloud.DockerAuth), which accepts exactly the logins the
# fake API handed out for the instance the registry's service names; the fake (internal/testkit/fakecloud/cmd/fakecloud) serves the cr/STS APIs on 127.0.0.1
# and the ECS metadata service on its real address, 100.100.100.200:80, which lo carries here. Each scenario runs the real clients with a clean environment
# (env -i), a fresh HOME, DOCKER_CONFIG holding only credHelpers, and its own helper cache.
set -uo pipefail

WORK=${E2E_WORK_DIR:?run e2e/run.sh, not this file}
BIN=${E2E_BIN:?}
HERE=${E2E_HERE:?}
read -ra SCENARIOS <<<"${E2E_SCENARIOS:?}"
# The one test world, shared with the Go tests (internal/testkit): accounts, users and their
# AccessKeys, roles, instances and the fixed tokens the fake hands out.
WORLD=$HERE/../testdata/world.json
LOGS=$WORK/logs
mkdir -p "$LOGS"
export PATH="$BIN:$PATH"
# Nothing here may go through a proxy (the ecs-ram-role scenario sets a dead HTTP_PROXY to prove the
# metadata service is reached directly).
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY http_proxy https_proxy all_proxy no_proxy
CLIENT_TIMEOUT=90
SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# Results go to stdout and to $WORK/results, from which run.sh makes the summary line.
result() { printf '%s\n' "$*" | tee -a "$WORK/results"; }

die() {
  result "FAIL setup: $*"
  exit 1
}

# --- the world ------------------------------------------------------------------------------------

[ -r "$WORLD" ] || die "no test world at $WORLD"
w_inst() { jq -er --arg n "$1" '.instances[] | select(.name == $n) | .id' "$WORLD"; }
w_role() { jq -er --arg n "$1" '.roles[] | select(.name == $n) | "acs:ram::\(.account):role/\(.name | ascii_downcase)"' "$WORLD"; }
w_user() { jq -er --arg n "$1" '.users[] | select(.name == $n) | "acs:ram::\(.account):user/\(.name)"' "$WORLD"; }
ROLE_ASSUME=$(w_role role-assume) && ROLE_ACR=$(w_role role-acr) && USER_DEV=$(w_user dev) && USER_SERVICE=$(w_user service) &&
  ECS_ROLE_ARN=$(jq -er .ecsRole "$WORLD") || die "the test world lacks role-assume, role-acr, dev, service or ecsRole"
ECS_ROLE=${ECS_ROLE_ARN##*/}
ACCT_MAIN=${ROLE_ASSUME#acs:ram::} ACCT_MAIN=${ACCT_MAIN%%:*}
ACCT_PARTNER=${ROLE_ACR#acs:ram::} ACCT_PARTNER=${ACCT_PARTNER%%:*}

# --- the private network and names ------------------------------------------------------------

ip link set lo up || die "ip link set lo up failed"
# The ECS metadata service's real address, on lo: the helper always dials it directly.
ip addr add 100.100.100.200/32 dev lo || die "ip addr add 100.100.100.200/32 dev lo failed"
if ip -o link show | grep -v ': lo:' | grep -q .; then
  die "the network namespace has interfaces besides loopback: $(ip -o link show | tr '\n' ' ')"
fi

# id, address, host name, the world's instance whose logins open the registry ("personal" for
# the Personal Edition token; "-" for a registry without authentication). The deny registry's
# service names another instance (cri-denyelsewhere09) than the deny instance the scenario's
# config names: its realm refuses deny's logins as another instance's.
REG_TABLE='
personal 127.0.0.11 registry.cn-hangzhou.aliyuncs.com                 personal
team     127.0.0.12 team-registry.cn-beijing.cr.aliyuncs.com          team
corp     127.0.0.13 corp.example.com                                  corp
cross    127.0.0.14 cross.example.com                                 cross
edge     127.0.0.15 edge-registry.cn-shanghai.cr.aliyuncs.com         edge
public   127.0.0.16 registry.cn-qingdao.aliyuncs.com                  -
deny     127.0.0.17 deny-registry.cn-hangzhou.cr.aliyuncs.com         deny
'
declare -A HOST ADDR INST
# ALIASES: more host names of a registry (one registry, several names: Docker Hub's clients use
# three); REG_USER: its htpasswd user when not cr_temp_user. scenarios-secrets.sh fills them.
declare -A ALIASES=() REG_USER=()
REG_IDS=()
while read -r id addr host inst; do
  [ -n "$id" ] || continue
  REG_IDS+=("$id")
  HOST[$id]=$host
  ADDR[$id]=$addr
  case $inst in
    personal | -) INST[$id]=$inst ;;
    *) INST[$id]=$(w_inst "$inst") || die "no instance $inst in $WORLD" ;;
  esac
done <<<"$REG_TABLE"

# The token service of each ACR registry, as real ACR names it in its /v2/ challenge
# (ACR-FACTS §1): Personal Edition realm https://dockerauth.<region>.aliyuncs.com/auth, service
# registry.aliyuncs.com:<region>:26842; an Enterprise instance realm
# https://dockerauth-ee.<region>.aliyuncs.com/auth, service registry.aliyuncs.com:<region>:china:<id>.
declare -A REALM=() SERVICE=() ID_OF=()
DENY_SERVICE_INSTANCE=cri-denyelsewhere09
for id in "${REG_IDS[@]}"; do
  ID_OF[${HOST[$id]}]=$id
  case ${INST[$id]} in
    personal)
      r=${HOST[$id]#registry.} r=${r%%.*}
      REALM[$id]=https://dockerauth.$r.aliyuncs.com/auth SERVICE[$id]=registry.aliyuncs.com:$r:26842
      ;;
    cri-*)
      r=$(jq -er --arg i "${INST[$id]}" '.instances[] | select(.id == $i) | .region' "$WORLD") || die "no region for ${INST[$id]}"
      sid=${INST[$id]} rr=$r
      [ "$id" = deny ] && sid=$DENY_SERVICE_INSTANCE
      # Realms whose region is not the service's are seen in the wild (ACR-FACTS §1): edge's realm
      # is in cn-hangzhou while it serves cn-shanghai; the helper takes the region from the service.
      [ "$id" = edge ] && rr=cn-hangzhou
      REALM[$id]=https://dockerauth-ee.$rr.aliyuncs.com/auth SERVICE[$id]=registry.aliyuncs.com:$r:china:$sid
      ;;
  esac
done
# The realms' host names: socat on 127.0.0.21:443 terminates TLS and hands them to the token server.
AUTH_ADDR=127.0.0.21
mapfile -t AUTH_HOSTS < <(for id in "${!REALM[@]}"; do h=${REALM[$id]#https://}; printf '%s\n' "${h%%/*}"; done | sort -u)

# The Alibaba Cloud API under its real names (default-api-endpoints): socat on 127.0.0.20:443
# terminates TLS with the test CA and hands the connection to the fake, Host header and all.
API_ADDR=127.0.0.20
API_HOSTS=(sts.aliyuncs.com)
for region in cn-hangzhou cn-shanghai cn-beijing cn-qingdao; do
  API_HOSTS+=("cr.$region.aliyuncs.com" "sts.$region.aliyuncs.com")
done
# Registries that are not ACR, served from KMS secrets (adds registries, names and KMS hosts).
# shellcheck source=e2e/scenarios-secrets.sh
. "$HERE/scenarios-secrets.sh"

mkdir -p "$WORK/etc"
{
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n'
  for id in "${REG_IDS[@]}"; do printf '%s %s\n' "${ADDR[$id]}" "${HOST[$id]}${ALIASES[$id]:+ ${ALIASES[$id]}}"; done
  printf '%s %s\n' "$API_ADDR" "${API_HOSTS[*]}"
  printf '%s %s\n' "$AUTH_ADDR" "${AUTH_HOSTS[*]}"
} >"$WORK/etc/hosts"
# DNS for any other name fails at once, locally.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$WORK/etc/resolv.conf"
mount --bind "$WORK/etc/hosts" /etc/hosts || die "cannot bind-mount /etc/hosts"
mount --bind "$WORK/etc/resolv.conf" /etc/resolv.conf 2>/dev/null || true

# --- test CA and the registries' certificate ------------------------------------------------------

PKI=$WORK/pki
mkdir -p "$PKI"
SANS=DNS:localhost
for id in "${REG_IDS[@]}"; do
  SANS+=",DNS:${HOST[$id]}"
  for a in ${ALIASES[$id]:-}; do SANS+=",DNS:$a"; done
done
for h in "${API_HOSTS[@]}" "${AUTH_HOSTS[@]}"; do SANS+=",DNS:$h"; done
if ! {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=docker-credential-acr e2e test CA" -keyout "$PKI/ca.key" -out "$PKI/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=docker-credential-acr e2e registry" -keyout "$PKI/server.key" -out "$PKI/server.csr" &&
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
      "$SANS" >"$PKI/server.ext" &&
    openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 2 -extfile "$PKI/server.ext" -out "$PKI/server.pem"
} >"$LOGS/pki.log" 2>&1; then
  die "making the test CA failed: $(tail -n 3 "$LOGS/pki.log")"
fi
CA=$PKI/ca.pem
# skopeo: --src-cert-dir with the CA (Go clients and the helper use SSL_CERT_FILE).
CERTS_DIR=$PKI/certs.d
mkdir -p "$CERTS_DIR" && cp "$CA" "$CERTS_DIR/ca.crt"
POLICY=$WORK/policy.json
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$POLICY"

# --- the fake Alibaba Cloud API -----------------------------------------------------------------------

"$BIN/fakecloud" -scenario "$WORLD" -metadata-addr 100.100.100.200:80 -calls "$LOGS/fake-calls.jsonl" \
  -dockerauth-cert "$PKI/dockerauth.pem" >"$WORK/fake.out" 2>"$LOGS/fakecloud.log" &
PIDS+=($!)
FAKE_URL='' MD_URL='' AUTH_URL=''
for _ in $(seq 1 100); do
  FAKE_URL=$(awk '$1 == "listening" {print $2}' "$WORK/fake.out")
  MD_URL=$(awk '$1 == "metadata" {print $2}' "$WORK/fake.out")
  AUTH_URL=$(awk '$1 == "dockerauth" {print $2}' "$WORK/fake.out")
  [ -n "$FAKE_URL" ] && [ -n "$MD_URL" ] && [ -n "$AUTH_URL" ] && break
  kill -0 "${PIDS[-1]}" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$FAKE_URL" ] || [ -z "$MD_URL" ] || [ -z "$AUTH_URL" ]; then
  die "fakecloud did not start: $(tail -n 5 "$LOGS/fakecloud.log")"
fi
FAKE_HOSTPORT=${FAKE_URL#http://}

fake_get() { curl -fsS --max-time 10 "$FAKE_URL$1"; }

socat "OPENSSL-LISTEN:443,bind=$API_ADDR,reuseaddr,fork,cert=$PKI/server.pem,key=$PKI/server.key,verify=0" \
  "TCP:$FAKE_HOSTPORT" >"$LOGS/api-tls-front.log" 2>&1 &
PIDS+=($!)
code=''
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://cr.cn-hangzhou.aliyuncs.com/_fake/count?action=none")
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || die "the TLS front of the fake API (socat) does not answer: $(tail -n 5 "$LOGS/api-tls-front.log")"

socat "OPENSSL-LISTEN:443,bind=$AUTH_ADDR,reuseaddr,fork,cert=$PKI/server.pem,key=$PKI/server.key,verify=0" \
  "TCP:${AUTH_URL#http://}" >"$LOGS/dockerauth-tls-front.log" 2>&1 &
PIDS+=($!)
code=''
for _ in $(seq 1 100); do
  # A client without credentials gets a token without any access (200).
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "${REALM[personal]}?service=${SERVICE[personal]}")
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || die "the token server's TLS front (socat) does not answer: $(tail -n 5 "$LOGS/dockerauth-tls-front.log")"

token_of() { # instance id or "personal": the fixed token the fake hands out
  local scope=$1
  case $scope in secret:*) secret_member "${scope#secret:}" password; return ;; esac
  [ "$scope" = personal ] && scope=
  jq -er --arg s "$scope" '.fixedTokens[$s]' "$WORLD"
}

# --- the registries -----------------------------------------------------------------------------------

start_registry() {
  local id=$1 dir=$WORK/registry/$1 auth=''
  mkdir -p "$dir/data"
  if [ -n "${SERVICE[$id]:-}" ]; then
    # ACR's flow: a Bearer challenge naming the realm and the service; the fake's token server
    # signs the tokens with the key of dockerauth.pem.
    auth="auth:
  token:
    realm: ${REALM[$id]}
    service: ${SERVICE[$id]}
    issuer: fakecloud dockerauth
    rootcertbundle: $PKI/dockerauth.pem"
  elif [ "${INST[$id]}" != - ]; then
    local pass
    pass=$(token_of "${INST[$id]}") || return 1
    # The deny registry expects another password than the token ACR hands out.
    [ "$id" = deny ] && pass="$pass-but-the-registry-wants-another"
    htpasswd -Bbn "${REG_USER[$id]:-cr_temp_user}" "$pass" >"$dir/htpasswd" || return 1
    auth="auth:
  htpasswd:
    realm: $id
    path: $dir/htpasswd"
  fi
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: ${ADDR[$id]}:443
  secret: e2e-not-a-secret-$id
  tls:
    certificate: $PKI/server.pem
    key: $PKI/server.key
$auth
EOF
  OTEL_TRACES_EXPORTER=none OTEL_SDK_DISABLED=true registry serve "$dir/config.yml" >"$LOGS/registry-$id.log" 2>&1 &
  PIDS+=($!)
}

for id in "${REG_IDS[@]}"; do
  start_registry "$id" || die "cannot configure registry $id"
done
for id in "${REG_IDS[@]}"; do
  want=401
  [ "${INST[$id]}" = - ] && want=200
  code=
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://${HOST[$id]}/v2/")
    [ "$code" = "$want" ] && break
    sleep 0.1
  done
  [ "$code" = "$want" ] || die "registry $id (${HOST[$id]}) answered /v2/ with ${code:-nothing}, want $want: $(tail -n 5 "$LOGS/registry-$id.log")"
  if [ -n "${SERVICE[$id]:-}" ]; then
    # The challenge, exactly as real ACR words it (the helper's /v2/ discovery reads it).
    challenge=$(curl -s -o /dev/null -D - --cacert "$CA" "https://${HOST[$id]}/v2/" | tr -d '\r' | sed -n 's/^[Ww]ww-[Aa]uthenticate: //p')
    [ "$challenge" = "Bearer realm=\"${REALM[$id]}\",service=\"${SERVICE[$id]}\"" ] ||
      die "registry $id challenges with '$challenge', want ACR's Bearer challenge"
  elif [ "$want" = 401 ]; then
    curl -s -o /dev/null -D - --cacert "$CA" "https://${HOST[$id]}/v2/" | grep -qi '^www-authenticate: basic' ||
      die "registry $id does not ask for basic authentication"
  fi
done

# --- scenario plumbing ------------------------------------------------------------------------------------

S='' SENV=() ENDPOINTS=() CALLS0=0 TOKENS0=0 PUSHED_DIGEST='' LAYER_SHA=''

# fail WHY: ends the scenario (it runs in a subshell) as FAIL with WHY.
fail() {
  printf '%s\n' "$*" >"$S/why"
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}
skip() {
  printf '%s\n' "$*" >"$S/why"
  exit 77
}
note() { printf '>>> %s\n' "$*" >&2; }

new_scenario() {
  S=$WORK/scenario/$1
  rm -rf "$S"
  mkdir -p "$S"/home "$S"/docker "$S"/nohelper "$S"/cache "$S"/push-cache "$S"/data "$S"/run "$S"/tmp "$S"/pull "$S"/xdg
  chmod 700 "$S/run"
  printf '{}\n' >"$S/nohelper/config.json"
  : >"$S/helper.log"
  # The API endpoints, overridden to the fake's loopback address (default-api-endpoints clears
  # them and lets the helper use the real names).
  ENDPOINTS=(
    DOCKER_CREDENTIAL_ACR_CR_ENDPOINT="$FAKE_URL"
    ALIBABA_CLOUD_STS_ENDPOINT="$FAKE_URL"
  )
  SENV=(
    DOCKER_CREDENTIAL_ACR_CACHE_DIR="$S/cache"
    DOCKER_CREDENTIAL_ACR_DATA_DIR="$S/data"
    DOCKER_CREDENTIAL_ACR_LOG_LEVEL=debug
  )
  CALLS0=$(fake_get /_fake/calls | jq length) || fail "cannot read the fake's call log"
  TOKENS0=$(fake_get /_fake/tokens | jq length) || fail "cannot read the fake's issued tokens"
}

# use_helper HOST...: DOCKER_CONFIG holds credHelpers for these hosts and nothing else.
use_helper() {
  jq -n '{credHelpers: ($ARGS.positional | map({key: ., value: "acr"}) | from_entries)}' --args "$@" >"$S/docker/config.json"
}

# with_access_key USER: base credentials of a RAM user of the fake's world.
with_access_key() {
  local id secret
  id=$(jq -er --arg n "$1" '.users[] | select(.name == $n) | .accessKeyId' "$WORLD") || fail "no user $1 in $WORLD"
  secret=$(jq -er --arg n "$1" '.users[] | select(.name == $n) | .accessKeySecret' "$WORLD") || fail "no user $1 in $WORLD"
  SENV+=(ALIBABA_CLOUD_ACCESS_KEY_ID="$id" ALIBABA_CLOUD_ACCESS_KEY_SECRET="$secret")
}

# with_config FILE: the helper's config file.
with_config() {
  SENV+=(DOCKER_CREDENTIAL_ACR_CONFIG="$1")
}

# cenv CMD...: runs a client with a clean environment (no proxies, no ALIBABA_CLOUD_* but the
# scenario's), the scenario's HOME and DOCKER_CONFIG, and the test CA.
cenv() {
  env -i PATH="$BIN:$SYS_PATH" HOME="$S/home" USER=root LANG=C.UTF-8 TMPDIR="$S/tmp" \
    DOCKER_CONFIG="$S/docker" XDG_RUNTIME_DIR="$S/run" XDG_CONFIG_HOME="$S/home/.config" \
    XDG_CONFIG_DIRS="$S/xdg" XDG_CACHE_HOME="$S/home/.cache" SSL_CERT_FILE="$CA" \
    E2E_REAL_HELPER="$BIN/real/docker-credential-acr" E2E_HELPER_LOG="$S/helper.log" \
    "${ENDPOINTS[@]}" "${SENV[@]}" timeout -k 5 "$CLIENT_TIMEOUT" "$@"
}

# push_image REF [anonymous]: pushes a fresh one-layer image of random bytes with crane, through
# the helper (its own cache directory, so the pulls below start cold) or anonymously. Sets
# PUSHED_DIGEST and LAYER_SHA (sha256 of the uncompressed layer tar).
push_image() {
  local ref=$1 how=${2:-helper} src=$S/src out
  rm -rf "$src" && mkdir -p "$src/rootfs/e2e"
  head -c 65536 /dev/urandom >"$src/rootfs/e2e/payload.bin"
  printf '%s %s\n' "$ref" "$(date +%s.%N)" >"$src/rootfs/e2e/stamp"
  tar -C "$src/rootfs" -cf "$src/layer.tar" e2e || fail "tar failed"
  LAYER_SHA=$(sha256sum <"$src/layer.tar" | cut -d' ' -f1)
  note "push $ref ($how)"
  if [ "$how" = anonymous ]; then
    out=$(cenv env DOCKER_CONFIG="$S/nohelper" crane append -f "$src/layer.tar" -t "$ref" 2>"$S/push.err")
  else
    out=$(cenv env DOCKER_CREDENTIAL_ACR_CACHE_DIR="$S/push-cache" crane append -f "$src/layer.tar" -t "$ref" 2>"$S/push.err")
  fi || fail "crane push of $ref ($how) failed: $(tail -n 3 "$S/push.err" | tr '\n' ' ')"
  PUSHED_DIGEST=${out##*@}
  [[ $PUSHED_DIGEST =~ ^sha256:[0-9a-f]{64}$ ]] || fail "crane append printed no digest: $out"
  note "pushed $PUSHED_DIGEST"
}

# expect_401_without_helper REF: a client without the helper (no credentials) gets the registry's 401.
expect_401_without_helper() {
  local ref=$1 out
  if out=$(cenv env DOCKER_CONFIG="$S/nohelper" crane manifest "$ref" 2>&1); then
    fail "pulling $ref without the helper worked; the registry must require authentication"
  fi
  grep -Eq '401|UNAUTHORIZED' <<<"$out" || fail "pulling $ref without the helper failed, but not with 401: $out"
  note "without the helper: $(head -c 300 <<<"$out")"
}

# pull CLIENT REF DIR: one pull with a real client into DIR; its output goes to DIR.log.
pull() {
  local client=$1 ref=$2 dir=$3
  rm -rf "$dir"
  note "pull $ref with $client"
  case $client in
    crane) cenv crane pull --format oci "$ref" "$dir" ;;
    skopeo) cenv skopeo --policy "$POLICY" copy --src-cert-dir "$CERTS_DIR" "docker://$ref" "dir:$dir" ;;
    regctl) cenv regctl image copy "$ref" "ocidir://$dir:pulled" ;;
    *) return 2 ;;
  esac >"$dir.log" 2>&1
}

sha256_of() { sha256sum <"$1" | cut -d' ' -f1; }

# verify_pulled CLIENT DIR: prints why and returns 1 unless DIR holds exactly the pushed image:
# the manifest with the pushed digest, every blob matching its digest, and the one layer
# decompressing to the very tar that was pushed.
verify_pulled() {
  local client=$1 dir=$2 mf blobdir d f n layer
  if [ "$client" = skopeo ]; then # dir: transport
    mf=$dir/manifest.json blobdir=$dir
  else # OCI image layout
    d=$(jq -r '.manifests[0].digest' "$dir/index.json" 2>/dev/null) || { echo "$client: no OCI index in $dir"; return 1; }
    [ "$d" = "$PUSHED_DIGEST" ] || { echo "$client: the pulled index names $d, but $PUSHED_DIGEST was pushed"; return 1; }
    blobdir=$dir/blobs/sha256 mf=$dir/blobs/sha256/${d#sha256:}
  fi
  [ -f "$mf" ] || { echo "$client: no manifest in $dir"; return 1; }
  d="sha256:$(sha256_of "$mf")"
  [ "$d" = "$PUSHED_DIGEST" ] || { echo "$client: the pulled manifest has digest $d, but $PUSHED_DIGEST was pushed"; return 1; }
  for d in $(jq -r '.config.digest, .layers[].digest' "$mf"); do
    f=$blobdir/${d#sha256:}
    [ -f "$f" ] || { echo "$client: blob $d missing"; return 1; }
    [ "sha256:$(sha256_of "$f")" = "$d" ] || { echo "$client: blob $d does not match its digest"; return 1; }
  done
  n=$(jq '.layers | length' "$mf")
  [ "$n" = 1 ] || { echo "$client: $n layers, want 1"; return 1; }
  layer=$blobdir/$(jq -r '.layers[0].digest | ltrimstr("sha256:")' "$mf")
  [ "$(gzip -dc <"$layer" | sha256sum | cut -d' ' -f1)" = "$LAYER_SHA" ] ||
    { echo "$client: the layer does not decompress to the pushed tar"; return 1; }
}

# pull_verify CLIENT REF: pull with CLIENT through the helper and check the content.
pull_verify() {
  local client=$1 ref=$2 dir=$S/pull/$1-$RANDOM why
  pull "$client" "$ref" "$dir" || fail "$client pull of $ref failed: $(tail -n 4 "$dir.log" | tr '\n' ' ')"
  why=$(verify_pulled "$client" "$dir") || fail "$why"
  note "$client brought back $PUSHED_DIGEST"
}

# helper_answered CLIENT HOST: the helper was asked for HOST by CLIENT and gave cr_temp_user.
helper_answered() {
  local client=$1 host=$2
  grep -Eq "^call action=get client=$client host=(https?://)?${host//./\\.}/? rc=0 user=cr_temp_user\$" "$S/helper.log" ||
    fail "the helper did not hand $client a login for $host (helper log: $(grep '^call' "$S/helper.log" | tr '\n' ';'))"
}

# pull_all REF: every client pulls REF through the helper and gets exactly the pushed content,
# having logged in at the registry's realm with the helper's login (ACR's flow: the login goes to
# the dockerauth host, not to the registry).
pull_all() {
  local ref=$1 host=${1%%/*} c
  local n0
  n0=$(realm_logins "$host" '.status == 200') || fail "cannot read the fake's calls"
  for c in crane skopeo regctl; do
    pull_verify "$c" "$ref"
    helper_answered "$c" "$host"
  done
  expect_count "logins the realm of $host accepted for the three pulls" "$(($(realm_logins "$host" '.status == 200') - n0))" -ge 3
  expect_count "logins the realms refused in this scenario" "$(realm_logins "$host" '.status != 200')" -eq 0
}

# realm_logins HOST FILTER: how many Basic logins for HOST's service the token server saw in this
# scenario matching FILTER (jq).
realm_logins() {
  local id=${ID_OF[$1]:?no registry $1}
  fake_get /_fake/calls | jq --argjson n "$CALLS0" --arg s "${SERVICE[$id]}" \
    "[.[\$n:][] | select(.service == \"dockerauth\" and .style == \"Basic\" and .params.service == \$s) | select($2)] | length"
}

# new_tokens FILTER: how many registry tokens the fake issued in this scenario matching FILTER (jq).
new_tokens() {
  fake_get /_fake/tokens | jq --argjson n "$TOKENS0" "[.[\$n:][] | select($1)] | length"
}
# new_calls FILTER: how many API calls the fake saw in this scenario matching FILTER (jq); the
# token server's (the registries' realm, called by the clients) are not API calls.
new_calls() {
  fake_get /_fake/calls | jq --argjson n "$CALLS0" "[.[\$n:][] | select(.service != \"dockerauth\") | select($1)] | length"
}

# expect_count WHAT N OP WANT: N OP WANT (-eq, -ge) or fail.
expect_count() {
  local what=$1 n=$2 op=$3 want=$4
  [[ $n =~ ^[0-9]+$ ]] || fail "cannot count $what"
  case $op in
    -eq) [ "$n" -eq "$want" ] ;;
    -ge) [ "$n" -ge "$want" ] ;;
    *) fail "expect_count: unknown operator $op" ;;
  esac || fail "$what: $n, want $op $want"
  note "$what: $n"
}

# every_token_is FILTER WHAT: at least one token was issued in this scenario and all match FILTER.
every_token_is() {
  local filter=$1 what=$2 all good
  all=$(new_tokens 'true') || fail "cannot read the fake's tokens"
  good=$(new_tokens "$filter") || fail "cannot read the fake's tokens"
  [ "$all" -ge 1 ] || fail "the fake issued no registry token"
  [ "$all" = "$good" ] || fail "of $all tokens issued, only $good are $what: $(fake_get /_fake/tokens | jq -c --argjson n "$TOKENS0" '[.[$n:][] | {edition, instanceId, principal}]')"
  note "$all token(s), all $what"
}

write_config() {
  cat >"$S/config.yaml"
  with_config "$S/config.yaml"
}

# --- the scenarios ------------------------------------------------------------------------------------------

sc_personal_classic() {
  local host=${HOST[personal]}
  local ref=$host/e2e-ns/personal:v1
  use_helper "$host"
  with_access_key dev
  push_image "$ref"
  expect_401_without_helper "$ref"
  pull_all "$ref"
  every_token_is ".edition == \"personal\" and .principal == \"$USER_DEV\"" \
    "Personal Edition tokens of the RAM user dev"
}

sc_enterprise_default_domain() {
  local host=${HOST[team]}
  local ref=$host/e2e-ns/enterprise:v1
  use_helper "$host"
  with_access_key dev
  push_image "$ref"
  expect_401_without_helper "$ref"
  pull_all "$ref"
  # No config: the registry's own challenge names the instance (service
  # registry.aliyuncs.com:cn-beijing:china:<id>), so no ListInstance is needed (the decoy
  # "team-archive", which the API's fuzzy name filter also returns, is never considered).
  expect_count "ListInstance calls" "$(new_calls '.action == "ListInstance"')" -eq 0
  every_token_is ".edition == \"enterprise\" and .instanceId == \"${INST[team]}\"" "tokens of instance team"
}

sc_custom_domain_config() {
  local host=${HOST[corp]}
  local ref=$host/e2e-ns/custom:v1
  use_helper "$host"
  with_access_key dev
  # Without the config entry, an unknown domain gets no token (the clients go on anonymously).
  local out
  if out=$(cenv crane manifest "$ref" 2>&1); then
    fail "without a config entry the helper handed a login to $host"
  fi
  grep -Eq '401|UNAUTHORIZED' <<<"$out" || fail "without a config entry: want the registry's 401, got: $out"
  grep -Eq "^call action=get client=crane host=$host rc=1 stdout=credentials not found in native keychain" "$S/helper.log" ||
    fail "without a config entry the helper should answer 'credentials not found' for $host: $(grep '^call' "$S/helper.log")"
  expect_count "tokens issued without a config entry" "$(new_tokens 'true')" -eq 0
  write_config <<EOF
registries:
  - domains: [$host]
    instanceId: ${INST[corp]}
    regionId: $(jq -er '.instances[] | select(.name == "corp") | .region' "$WORLD")
EOF
  push_image "$ref"
  expect_401_without_helper "$ref"
  pull_all "$ref"
  every_token_is ".edition == \"enterprise\" and .instanceId == \"${INST[corp]}\"" "tokens of instance corp"
}

sc_arn_chain() {
  local host=${HOST[cross]}
  local ref=$host/e2e-ns/chain:v1
  use_helper "$host"
  with_access_key service
  write_config <<EOF
registries:
  - domains: [$host]
    instanceId: ${INST[cross]}
    regionId: cn-shanghai
    arnService: $ROLE_ASSUME
    arnUser: $ROLE_ACR
EOF
  push_image "$ref"
  expect_401_without_helper "$ref"
  pull_all "$ref"
  expect_count "AssumeRole of role-assume signed by the service user's AccessKey" \
    "$(new_calls ".action == \"AssumeRole\" and .status == 200 and .params.RoleArn == \"$ROLE_ASSUME\" and .principal == \"$USER_SERVICE\"")" -ge 1
  expect_count "AssumeRole of role-acr signed by the role-assume session" \
    "$(new_calls ".action == \"AssumeRole\" and .status == 200 and .params.RoleArn == \"$ROLE_ACR\" and (.principal | startswith(\"acs:ram::$ACCT_MAIN:assumed-role/role-assume/\"))")" -ge 1
  every_token_is ".instanceId == \"${INST[cross]}\" and (.principal | startswith(\"acs:ram::$ACCT_PARTNER:assumed-role/role-acr/\"))" \
    "tokens of instance cross asked for by a role-acr session"
}

sc_ecs_ram_role() {
  local host=${HOST[edge]}
  local ref=$host/e2e-ns/ecs:v1
  use_helper "$host"
  # No AccessKey: the ECS RAM role from the metadata service on its real address. HTTP_PROXY
  # points at a port where nothing listens: the metadata fetch works only because it never uses a
  # proxy. The registries are https and listed in NO_PROXY.
  local noproxy
  noproxy=$(printf '%s,' "${HOST[@]}")"127.0.0.1,localhost,$FAKE_HOSTPORT"
  SENV+=(ALIBABA_CLOUD_ECS_METADATA="$ECS_ROLE" HTTP_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9
    NO_PROXY="$noproxy" no_proxy="$noproxy")
  push_image "$ref"
  expect_401_without_helper "$ref"
  pull_all "$ref"
  expect_count "metadata credential calls for $ECS_ROLE" \
    "$(new_calls ".service == \"ecs-metadata\" and .status == 200 and (.path | endswith(\"/security-credentials/$ECS_ROLE\"))")" -ge 1
  every_token_is ".instanceId == \"${INST[edge]}\" and (.principal | startswith(\"acs:ram::$ACCT_MAIN:assumed-role/$ECS_ROLE/\"))" \
    "tokens of instance edge asked for with the ECS role's credentials"
}

sc_cache_second_pull() {
  local host=${HOST[team]}
  local ref=$host/e2e-ns/cache:v1 n
  use_helper "$host"
  with_access_key dev
  push_image "$ref" # with its own cache directory: the pulls start cold
  TOKENS0=$(fake_get /_fake/tokens | jq length)
  CALLS0=$(fake_get /_fake/calls | jq length)
  pull_verify crane "$ref"
  helper_answered crane "$host"
  expect_count "token calls for the first pull (cold cache)" "$(new_tokens 'true')" -eq 1
  n=$(grep -c '^call action=get' "$S/helper.log")
  TOKENS0=$(fake_get /_fake/tokens | jq length)
  CALLS0=$(fake_get /_fake/calls | jq length)
  pull_verify skopeo "$ref"
  helper_answered skopeo "$host"
  pull_verify crane "$ref"
  [ "$(grep -c '^call action=get' "$S/helper.log")" -gt "$n" ] || fail "the second pulls did not ask the helper"
  expect_count "token calls for the second pulls (served from the cache)" "$(new_tokens 'true')" -eq 0
  expect_count "API calls of any kind for the second pulls" "$(new_calls 'true')" -eq 0
}

sc_anonymous_public() {
  local host=${HOST[public]}
  local ref=$host/e2e-public/hello:v1 c
  use_helper "$host"
  # No credentials of any kind (no AccessKey, no profile, no ECS role on this machine).
  push_image "$ref" anonymous
  for c in crane skopeo regctl; do
    pull_verify "$c" "$ref"
  done
  # crane and skopeo ask the helper before they know whether the registry wants credentials;
  # regctl asks only after a 401, which a public registry never sends.
  local calls notfound
  calls=$(grep -c '^call action=get' "$S/helper.log")
  notfound=$(grep -Ec "^call action=get client=[a-z]+ host=(https?://)?${host//./\\.}/? rc=1 stdout=credentials not found in native keychain ?\$" "$S/helper.log")
  for c in crane skopeo; do
    grep -q "^call action=get client=$c " "$S/helper.log" || fail "$c did not ask the helper for $host"
  done
  [ "$calls" = "$notfound" ] ||
    fail "every helper answer should be 'credentials not found in native keychain': $(grep '^call' "$S/helper.log" | tr '\n' ';')"
  note "$calls helper calls, all answered 'credentials not found in native keychain'"
  expect_count "API calls" "$(new_calls 'true')" -eq 0
}

sc_registry_rejects_token() {
  local host=${HOST[deny]}
  local ref=$host/e2e-ns/rejected:v1 c dir out
  use_helper "$host"
  with_access_key dev
  # The config names instance deny; the registry's service names another instance, whose realm
  # refuses deny's logins.
  write_config <<EOF
registries:
  - domains: [$host]
    instanceId: ${INST[deny]}
    regionId: cn-hangzhou
EOF
  for c in crane skopeo regctl; do
    dir=$S/pull/$c
    if pull "$c" "$ref" "$dir"; then
      fail "$c pulled from a registry that rejects the token"
    fi
    out=$(cat "$dir.log")
    grep -Eqi '401|unauthorized' <<<"$out" || fail "$c failed, but not with the registry's 401: $out"
    helper_answered "$c" "$host"
    note "$c: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
  done
  every_token_is ".instanceId == \"${INST[deny]}\"" "tokens of instance deny"
  expect_count "deny's logins the realm refused as another instance's" \
    "$(realm_logins "$host" '.status == 401 and .errorCode == "LoginOfAnotherInstance"')" -ge 3
  expect_count "logins the realm accepted" "$(realm_logins "$host" '.status == 200')" -eq 0
}

sc_token_denied_anonymous_401() {
  local host=${HOST[team]}
  local ref=$host/e2e-ns/denied:v1 c dir out
  use_helper "$host"
  # Base credentials whose RAM policy denies cr:GetAuthorizationToken: the helper says why on
  # stderr and answers "not found"; the client goes on anonymously and gets the registry's 401.
  with_access_key denied
  for c in crane skopeo regctl; do
    dir=$S/pull/$c
    if pull "$c" "$ref" "$dir"; then
      fail "$c pulled without a token"
    fi
    out=$(cat "$dir.log")
    grep -Eqi '401|unauthorized' <<<"$out" || fail "$c failed, but not with the registry's 401: $out"
    grep -Eq "^call action=get client=$c host=(https?://)?${host//./\\.}/? rc=1 stdout=credentials not found in native keychain ?\$" "$S/helper.log" ||
      fail "the helper should answer $c 'credentials not found' (not strict): $(grep '^call' "$S/helper.log" | tr '\n' ';')"
    grep -q 'NoPermission.*cr:GetAuthorizationToken' <<<"$out" ||
      fail "$c's output does not carry the helper's reason (NoPermission for cr:GetAuthorizationToken): $out"
    note "$c: $(grep -m1 NoPermission <<<"$out")"
  done
  expect_count "GetAuthorizationToken calls refused with NoPermission" \
    "$(new_calls '.action == "GetAuthorizationToken" and .errorCode == "NoPermission"')" -ge 1
  # DOCKER_CREDENTIAL_ACR_STRICT=1: the helper's failure is an error, which stops the client
  # before it asks the registry.
  : >"$S/helper.log"
  SENV+=(DOCKER_CREDENTIAL_ACR_STRICT=1)
  dir=$S/pull/crane-strict
  if pull crane "$ref" "$dir"; then
    fail "crane pulled without a token (strict)"
  fi
  out=$(cat "$dir.log")
  grep -q 'NoPermission.*cr:GetAuthorizationToken' <<<"$out" ||
    fail "strict: crane's error does not carry the helper's reason: $out"
  grep -Eq "^call action=get client=crane host=${host//./\\.} rc=1 stdout=.*NoPermission" "$S/helper.log" ||
    fail "strict: the helper should answer with its error, not 'not found': $(grep '^call' "$S/helper.log" | tr '\n' ';')"
  note "strict: $(tail -n 1 <<<"$out")"
  expect_count "tokens issued" "$(new_tokens 'true')" -eq 0
}

# api_host_is HOST: jq filter part: the call's Host header (port dropped) is HOST.
api_host_is() { printf '((.host | split(":")[0]) == "%s")' "$1"; }

sc_default_api_endpoints() {
  # No endpoint overrides: the helper calls https://cr.<region>.aliyuncs.com and the STS
  # endpoint it picks, which the private /etc/hosts sends to the fake (TLS front on loopback).
  # The fake reads the region from the Host header, so a wrong region is an error here.
  ENDPOINTS=()
  local base host ref
  use_helper "${HOST[personal]}" "${HOST[team]}" "${HOST[cross]}"
  write_config <<EOF
registries:
  - domains: [${HOST[cross]}]
    instanceId: ${INST[cross]}
    regionId: cn-shanghai
    arnService: $ROLE_ASSUME
    arnUser: $ROLE_ACR
EOF
  base=("${SENV[@]}")

  host=${HOST[personal]}
  ref=$host/e2e-ns/endpoints:v1
  with_access_key dev
  push_image "$ref"
  pull_verify crane "$ref"
  helper_answered crane "$host"
  expect_count "Personal token calls to cr.cn-hangzhou.aliyuncs.com" \
    "$(new_calls ".action == \"GetAuthorizationToken\" and .version == \"2016-06-07\" and .status == 200 and $(api_host_is cr.cn-hangzhou.aliyuncs.com)")" -ge 1

  SENV=("${base[@]}")
  host=${HOST[team]}
  ref=$host/e2e-ns/endpoints:v1
  with_access_key dev
  push_image "$ref"
  pull_verify crane "$ref"
  helper_answered crane "$host"
  expect_count "token calls for team to cr.cn-beijing.aliyuncs.com" \
    "$(new_calls ".action == \"GetAuthorizationToken\" and .params.InstanceId == \"${INST[team]}\" and .status == 200 and $(api_host_is cr.cn-beijing.aliyuncs.com)")" -ge 1

  SENV=("${base[@]}")
  host=${HOST[cross]}
  ref=$host/e2e-ns/endpoints:v1
  with_access_key service
  push_image "$ref"
  pull_verify crane "$ref"
  helper_answered crane "$host"
  expect_count "AssumeRole calls to an STS endpoint under its real name" \
    "$(new_calls '.action == "AssumeRole" and .status == 200 and ((.host | split(":")[0]) | test("^sts(\\.[a-z0-9-]+)?\\.aliyuncs\\.com$"))')" -ge 2
  expect_count "GetAuthorizationToken calls for cross to cr.cn-shanghai.aliyuncs.com" \
    "$(new_calls ".action == \"GetAuthorizationToken\" and .params.InstanceId == \"${INST[cross]}\" and .status == 200 and $(api_host_is cr.cn-shanghai.aliyuncs.com)")" -ge 1

  expect_count "API calls to the fake's loopback address" "$(new_calls "$(api_host_is 127.0.0.1)")" -eq 0
  expect_count "API calls that failed" "$(new_calls '.status != 200')" -eq 0
  every_token_is "(.edition == \"personal\" and .region == \"cn-hangzhou\") or (.instanceId == \"${INST[team]}\" and .region == \"cn-beijing\") or (.instanceId == \"${INST[cross]}\" and .region == \"cn-shanghai\")" \
    "tokens asked for in the right region"
}


# ggcr-keychain: a program that links the keychain (keychain/ggcr, go-containerregistry's remote.Get
# with ggcr.FromEnvironment in front of authn.DefaultKeychain), not the helper binary: DOCKER_CONFIG
# names no helper, so only the linked keychain can log it in. It gets the pushed manifest from the
# Personal registry with the dev user's token, and the helper binary is never run.
sc_ggcr_keychain() {
  local host=${HOST[personal]}
  local ref=$host/e2e-ns/ggcr:v1 out
  use_helper "$host"
  with_access_key dev
  push_image "$ref"
  expect_401_without_helper "$ref"
  : >"$S/helper.log"
  TOKENS0=$(fake_get /_fake/tokens | jq length) || fail "cannot read the fake's issued tokens"
  out=$(cenv env DOCKER_CONFIG="$S/nohelper" DOCKER_CREDENTIAL_ACR_CACHE_DIR="$S/ggcr-cache" ggcr-e2epull "$ref" 2>"$S/ggcr.err") ||
    fail "remote.Get through the ggcr keychain failed: $(tail -n 3 "$S/ggcr.err" | tr '\n' ' ')"
  note "ggcr-e2epull: $out"
  [ "$out" = "digest $PUSHED_DIGEST user cr_temp_user" ] ||
    fail "remote.Get through the ggcr keychain answered \"$out\", want \"digest $PUSHED_DIGEST user cr_temp_user\""
  ! grep -q '^call' "$S/helper.log" || fail "the helper binary was run: $(tr '\n' ';' <"$S/helper.log")"
  every_token_is ".edition == \"personal\" and .principal == \"$USER_DEV\"" \
    "Personal Edition tokens of the RAM user dev, asked by the linked keychain"
}

# --- run ----------------------------------------------------------------------------------------------------

PASSED=0 FAILED=0 SKIPPED=0
selected() {
  [ -z "${E2E_ONLY:-}" ] && return 0
  case " $E2E_ONLY " in *" $1 "*) return 0 ;; esac
  return 1
}

for name in "${SCENARIOS[@]}"; do
  selected "$name" || continue
  fn=sc_${name//-/_}
  S=$WORK/scenario/$name
  t0=$(date +%s)
  (
    new_scenario "$name"
    "$fn"
  ) >"$LOGS/$name.log" 2>&1
  rc=$?
  printf 'e2e: %s took %ss\n' "$name" "$(($(date +%s) - t0))" >&2
  why=$(cat "$S/why" 2>/dev/null)
  case $rc in
    0)
      result "PASS $name"
      PASSED=$((PASSED + 1))
      ;;
    77)
      result "SKIP $name: ${why:-no reason given}"
      SKIPPED=$((SKIPPED + 1))
      ;;
    *)
      result "FAIL $name: ${why:-exited with status $rc (see $LOGS/$name.log)}"
      FAILED=$((FAILED + 1))
      {
        printf '    --- last lines of %s:\n' "$LOGS/$name.log"
        tail -n 25 "$LOGS/$name.log" | sed 's/^/    /'
        if [ -s "$S/helper.log" ]; then
          printf '    --- helper calls (%s):\n' "$S/helper.log"
          tail -n 25 "$S/helper.log" | sed 's/^/    /'
        fi
      } >&2
      ;;
  esac
done

[ "$FAILED" = 0 ]
