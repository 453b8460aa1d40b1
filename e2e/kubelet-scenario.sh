#!/usr/bin/env bash
# The kubelet scenario. e2e/kubelet.sh runs this file inside private mount, network and PID
# namespaces after it has built everything; do not run it directly.
#
# A Personal Edition registry (registry.cn-hangzhou.aliyuncs.com on 127.0.0.11:443, TLS with a test
# CA, htpasswd user cr_temp_user whose password is the token the fake Alibaba Cloud API hands out to
# the RAM user dev) holds the pod's image; a registry without authentication
# (registry.cn-qingdao.aliyuncs.com, 127.0.0.16) holds containerd's sandbox image. The node's
# files live under $WORK/node: install-kubelet-plugin --profile kubeadm --root $WORK/node writes the
# plugin, the CredentialProviderConfig and KUBELET_EXTRA_ARGS there, and the kubelet is started with
# those flags (their paths taken under the node root). Standalone kubelet (no API server): the pod is
# a static pod with hostNetwork (no CNI here).
set -uo pipefail

WORK=${E2E_WORK_DIR:?run e2e/kubelet.sh, not this file}
BIN=${E2E_BIN:?}
HERE=${E2E_HERE:?}
WORLD=$HERE/../testdata/world.json
LOGS=$WORK/logs
export PATH="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY NO_PROXY http_proxy https_proxy all_proxy no_proxy
unset ALIBABA_CLOUD_ACCESS_KEY_ID ALIBABA_CLOUD_ACCESS_KEY_SECRET ALIBABA_CLOUD_SECURITY_TOKEN ALIBABA_CLOUD_PROFILE
export HOME=$WORK/home
mkdir -p "$HOME"

PIDS=()
CTR_SOCK=''
cleanup() {
  local p
  # The pod's containers first (containerd removes their cgroups), then everything else.
  if [ -n "${KUBELET_PID:-}" ]; then kill "$KUBELET_PID" 2>/dev/null; wait "$KUBELET_PID" 2>/dev/null; fi
  if [ -n "$CTR_SOCK" ] && [ -S "$CTR_SOCK" ]; then
    for p in $(ctr -a "$CTR_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$CTR_SOCK" -n k8s.io tasks kill -s KILL "$p" >/dev/null 2>&1
    done
    sleep 1
    for p in $(ctr -a "$CTR_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do ctr -a "$CTR_SOCK" -n k8s.io tasks rm -f "$p" >/dev/null 2>&1; done
    for p in $(ctr -a "$CTR_SOCK" -n k8s.io containers ls -q 2>/dev/null); do ctr -a "$CTR_SOCK" -n k8s.io containers rm "$p" >/dev/null 2>&1; done
  fi
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  # The kubelet's cgroup subtree (see CGROUP_ROOT), deepest first.
  for p in /sys/fs/cgroup/*/"${CGROUP_NAME:-none}"; do
    [ -d "$p" ] && find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 143' TERM INT

result() { printf '%s\n' "$*"; }
fail() { result "FAIL kubelet-pull: $*"; exit 1; }
note() { printf '>>> %s\n' "$*" >&2; }

# --- network and names ---------------------------------------------------------------------------
ip link set lo up || fail "ip link set lo up failed"
if ip -o link show | grep -v ': lo:' | grep -q .; then fail "the network namespace has interfaces besides loopback"; fi
PRIV_HOST=registry.cn-hangzhou.aliyuncs.com PRIV_ADDR=127.0.0.11
PUB_HOST=registry.cn-qingdao.aliyuncs.com PUB_ADDR=127.0.0.16
mkdir -p "$WORK/etc"
printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "$PRIV_ADDR" "$PRIV_HOST" "$PUB_ADDR" "$PUB_HOST" >"$WORK/etc/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$WORK/etc/resolv.conf"
mount --bind "$WORK/etc/hosts" /etc/hosts || fail "cannot bind-mount /etc/hosts"
mount --bind "$WORK/etc/resolv.conf" /etc/resolv.conf 2>/dev/null || true
# Paths the kubelet and runc use whatever they are told (the kubelet's --cert-dir default and its
# device-plugin socket under /var/lib/kubelet, runc's state and the shims' sockets under
# /run/containerd): private, empty file systems here, so nothing is left on the machine.
for d in /var/lib /run; do
  mount -t tmpfs -o mode=0755 tmpfs "$d" || fail "cannot mount a private tmpfs on $d"
done

# --- test CA ----------------------------------------------------------------------------------------
PKI=$WORK/pki
mkdir -p "$PKI"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=docker-credential-acr e2e kubelet CA" -keyout "$PKI/ca.key" -out "$PKI/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=e2e registry" -keyout "$PKI/server.key" -out "$PKI/server.csr" &&
    printf 'subjectAltName=DNS:%s,DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
      "$PRIV_HOST" "$PUB_HOST" >"$PKI/server.ext" &&
    openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
      -days 2 -extfile "$PKI/server.ext" -out "$PKI/server.pem"
} >"$LOGS/pki.log" 2>&1 || fail "making the test CA failed: $(tail -n 3 "$LOGS/pki.log")"
CA=$PKI/ca.pem

# --- the fake Alibaba Cloud API -------------------------------------------------------------------
fakecloud -scenario "$WORLD" -calls "$LOGS/fake-calls.jsonl" >"$WORK/fake.out" 2>"$LOGS/fakecloud.log" &
PIDS+=($!)
FAKE_URL=''
for _ in $(seq 1 100); do
  FAKE_URL=$(awk '$1 == "listening" {print $2}' "$WORK/fake.out")
  [ -n "$FAKE_URL" ] && break
  sleep 0.1
done
[ -n "$FAKE_URL" ] || fail "fakecloud did not start: $(tail -n 5 "$LOGS/fakecloud.log")"
TOKEN=$(jq -er '.fixedTokens[""]' "$WORLD") || fail "the test world has no Personal Edition token"
DEV_AK=$(jq -er '.users[] | select(.name == "dev") | .accessKeyId' "$WORLD") &&
  DEV_SK=$(jq -er '.users[] | select(.name == "dev") | .accessKeySecret' "$WORLD") || fail "the test world has no user dev"
DEV_ARN=$(jq -er '.users[] | select(.name == "dev") | "acs:ram::\(.account):user/\(.name)"' "$WORLD") || fail "no dev ARN"

# --- registries -------------------------------------------------------------------------------------
start_registry() { # id addr auth(yes|no)
  local id=$1 addr=$2 dir=$WORK/registry/$1 auth=''
  mkdir -p "$dir/data"
  if [ "$3" = yes ]; then
    htpasswd -Bbn cr_temp_user "$TOKEN" >"$dir/htpasswd" || return 1
    auth="auth:
  htpasswd:
    realm: $id
    path: $dir/htpasswd"
  fi
  cat >"$dir/config.yml" <<EOC
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: $addr:443
  secret: e2e-not-a-secret-$id
  tls:
    certificate: $PKI/server.pem
    key: $PKI/server.key
$auth
EOC
  OTEL_TRACES_EXPORTER=none OTEL_SDK_DISABLED=true registry serve "$dir/config.yml" >"$LOGS/registry-$id.log" 2>&1 &
  PIDS+=($!)
}
start_registry private "$PRIV_ADDR" yes || fail "cannot configure the private registry"
start_registry public "$PUB_ADDR" no || fail "cannot configure the public registry"
for hw in "$PRIV_HOST:401" "$PUB_HOST:200"; do
  code=''
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://${hw%:*}/v2/")
    [ "$code" = "${hw##*:}" ] && break
    sleep 0.1
  done
  [ "$code" = "${hw##*:}" ] || fail "registry ${hw%:*} answered /v2/ with ${code:-nothing}, want ${hw##*:}"
done

# --- images: the pause program as sandbox image (public) and as the pod's image (private) ---------
mkdir -p "$WORK/img/rootfs" "$WORK/push-docker"
cp "$BIN/pause" "$WORK/img/rootfs/pause"
# The pusher logs in with the registry's password directly (the helper is under test at pull only).
jq -n --arg a "$(printf 'cr_temp_user:%s' "$TOKEN" | base64 -w0)" --arg h "$PRIV_HOST" '{auths: {($h): {auth: $a}}}' \
  >"$WORK/push-docker/config.json"
chmod 600 "$WORK/push-docker/config.json"
PAUSE_REF=$PUB_HOST/e2e/pause:1
APP_REF=$PRIV_HOST/e2e-ns/kubelet-app:v1
# Each image has its own random layer: the pod's image shares no blob with the sandbox image.
for ref in "$PAUSE_REF" "$APP_REF"; do
  head -c 4096 /dev/urandom >"$WORK/img/rootfs/stamp"
  tar -C "$WORK/img/rootfs" -cf "$WORK/img/layer.tar" pause stamp || fail "tar failed"
  DOCKER_CONFIG=$WORK/push-docker SSL_CERT_FILE=$CA crane append -f "$WORK/img/layer.tar" -t "$ref.tmp" >/dev/null 2>"$LOGS/push.err" &&
    DOCKER_CONFIG=$WORK/push-docker SSL_CERT_FILE=$CA crane mutate --entrypoint /pause -t "$ref" "$ref.tmp" >"$WORK/pushed" 2>>"$LOGS/push.err" ||
    fail "pushing $ref failed: $(tail -n 3 "$LOGS/push.err" | tr '\n' ' ')"
done
APP_DIGEST=$(sed -n 's/.*@//p' "$WORK/pushed")
[[ $APP_DIGEST =~ ^sha256:[0-9a-f]{64}$ ]] || fail "crane mutate printed no digest: $(cat "$WORK/pushed")"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "https://$PRIV_HOST/v2/e2e-ns/kubelet-app/manifests/v1")
[ "$code" = 401 ] || fail "the private image is readable without credentials (HTTP $code)"
note "pushed $APP_REF@$APP_DIGEST and $PAUSE_REF"

# --- containerd on a private tmpfs (overlayfs needs a lower file system it can stack on) -----------
CTD=$WORK/containerd
mkdir -p "$CTD" && mount -t tmpfs -o mode=0700 tmpfs "$CTD" || fail "cannot mount a tmpfs for containerd"
mkdir -p "$CTD/root" "$CTD/state"
CTR_SOCK=$CTD/containerd.sock
cat >"$CTD/config.toml" <<EOC
version = 2
root = "$CTD/root"
state = "$CTD/state"
[grpc]
  address = "$CTR_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  # The machine may lack CAP_SYS_RESOURCE (this CI container does): runc then cannot lower the
  # sandbox's oom_score_adj to -998; restricted, it is kept at containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
EOC
# containerd trusts the test CA through SSL_CERT_FILE (Go's crypto/x509 on Linux); it gets the
# private registry's credentials only from the kubelet's PullImage request.
env -i PATH="$PATH" SSL_CERT_FILE="$CA" containerd --config "$CTD/config.toml" >"$LOGS/containerd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  ctr -a "$CTR_SOCK" version >/dev/null 2>&1 && break
  sleep 0.1
done
ctr -a "$CTR_SOCK" version >"$LOGS/ctr-version.txt" 2>&1 || fail "containerd did not start: $(tail -n 5 "$LOGS/containerd.log")"

# --- the node: install-kubelet-plugin under a node root ---------------------------------------------
NODE=$WORK/node
mkdir -p "$NODE/etc/default" "$NODE/etc/kubernetes/manifests" "$NODE/var/lib/kubelet"
docker-credential-acr install-kubelet-plugin --root "$NODE" --profile kubeadm --no-restart >"$LOGS/install.out" 2>&1 ||
  fail "install-kubelet-plugin failed: $(tail -n 5 "$LOGS/install.out" | tr '\n' ' ')"
[ -r "$NODE/etc/default/kubelet" ] || fail "install-kubelet-plugin wrote no /etc/default/kubelet: $(cat "$LOGS/install.out")"
# KUBELET_EXTRA_ARGS as kubeadm's 10-kubeadm.conf passes it; the paths are the node's, under $NODE here.
EXTRA=$(
  # shellcheck disable=SC1091
  . "$NODE/etc/default/kubelet" && printf '%s' "${KUBELET_EXTRA_ARGS:-}"
)
KFLAGS=()
for f in $EXTRA; do
  case $f in
    --image-credential-provider-config=/* | --image-credential-provider-bin-dir=/*) KFLAGS+=("${f%%=*}=$NODE${f#*=}") ;;
    *) KFLAGS+=("$f") ;;
  esac
done
printf '%s\n' "${KFLAGS[@]}" | grep -q -- '--image-credential-provider-config=' &&
  printf '%s\n' "${KFLAGS[@]}" | grep -q -- '--image-credential-provider-bin-dir=' ||
  fail "KUBELET_EXTRA_ARGS lacks the provider flags: $EXTRA"
note "kubelet provider flags: ${KFLAGS[*]}"

# --- kubelet -----------------------------------------------------------------------------------------
# Its own cgroup subtree in every v1 hierarchy (created here, removed at the end).
CGROUP_NAME=dca-e2e-kubelet-$$
for d in /sys/fs/cgroup/*/; do
  case $d in */unified/) continue ;; esac
  mkdir -p "$d$CGROUP_NAME" 2>/dev/null || true
done
# The kubelet sets vm.overcommit_memory, kernel.panic and kernel.panic_on_oops when they differ from
# what it wants (pkg/kubelet/cm/container_manager_linux.go, setupKernelTunables), and /proc/sys is
# the machine's: with protectKernelDefaults it only checks them, and in this mount namespace it reads
# files holding its values instead, so the machine's settings are never touched.
SYSCTL=$WORK/sysctl
mkdir -p "$SYSCTL"
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
  kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  k=${kv%%=*} v=${kv#*=}
  if [ "$(cat "/proc/sys/$k")" != "$v" ]; then
    printf '%s\n' "$v" >"$SYSCTL/${k//\//.}"
    mount --bind "$SYSCTL/${k//\//.}" "/proc/sys/$k" || fail "cannot cover /proc/sys/$k in the private mount namespace"
  fi
done
KDIR=$WORK/kubelet
mkdir -p "$KDIR/root" "$KDIR/plugin-cache" "$KDIR/plugin-data"
cat >"$KDIR/config.yaml" <<EOC
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: $NODE/etc/kubernetes/manifests
containerRuntimeEndpoint: unix://$CTR_SOCK
cgroupDriver: cgroupfs
cgroupsPerQOS: true
cgroupRoot: /$CGROUP_NAME
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
protectKernelDefaults: true
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
resolvConf: $WORK/etc/resolv.conf
evictionHard:
  memory.available: "0%"
  nodefs.available: "0%"
  imagefs.available: "0%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
fileCheckFrequency: 1s
syncFrequency: 5s
EOC
cat >"$NODE/etc/kubernetes/manifests/app.yaml" <<EOC
apiVersion: v1
kind: Pod
metadata:
  name: acr-private-app
  namespace: default
spec:
  hostNetwork: true
  containers:
  - name: app
    image: $APP_REF
    imagePullPolicy: Always
EOC
# The plugin inherits the kubelet's environment: the RAM user's AccessKey, the fake's API endpoint,
# its own cache and data directories, debug logging.
env -i PATH="$PATH" HOME="$KDIR/home" \
  ALIBABA_CLOUD_ACCESS_KEY_ID="$DEV_AK" ALIBABA_CLOUD_ACCESS_KEY_SECRET="$DEV_SK" \
  DOCKER_CREDENTIAL_ACR_CR_ENDPOINT="$FAKE_URL" ALIBABA_CLOUD_STS_ENDPOINT="$FAKE_URL" \
  DOCKER_CREDENTIAL_ACR_CACHE_DIR="$KDIR/plugin-cache" DOCKER_CREDENTIAL_ACR_DATA_DIR="$KDIR/plugin-data" \
  DOCKER_CREDENTIAL_ACR_LOG_LEVEL=debug \
  kubelet --config="$KDIR/config.yaml" --root-dir="$KDIR/root" --cert-dir="$KDIR/pki" --hostname-override=e2e-node \
  --v=4 "${KFLAGS[@]}" >"$LOGS/kubelet.log" 2>&1 &
KUBELET_PID=$!
note "kubelet started (pid $KUBELET_PID)"

# --- wait for the pod's container to run ----------------------------------------------------------
ok=''
for _ in $(seq 1 240); do
  kill -0 "$KUBELET_PID" 2>/dev/null || fail "the kubelet exited: $(grep -E '^[EF][0-9]{4}|[Ee]rror' "$LOGS/kubelet.log" | tail -n 5 | tr '\n' ' ')"
  if ctr -a "$CTR_SOCK" -n k8s.io images ls -q 2>/dev/null | grep -qx "$APP_REF" &&
    ctr -a "$CTR_SOCK" -n k8s.io tasks ls 2>/dev/null | grep -q RUNNING &&
    [ "$(ctr -a "$CTR_SOCK" -n k8s.io tasks ls 2>/dev/null | grep -c RUNNING)" -ge 2 ]; then
    ok=1
    break
  fi
  sleep 0.5
done
ctr -a "$CTR_SOCK" -n k8s.io images ls >"$LOGS/ctr-images.txt" 2>&1
ctr -a "$CTR_SOCK" -n k8s.io containers ls >"$LOGS/ctr-containers.txt" 2>&1
ctr -a "$CTR_SOCK" -n k8s.io tasks ls >"$LOGS/ctr-tasks.txt" 2>&1
[ -n "$ok" ] || fail "the pod's container did not run in 120s; kubelet: $(grep -iE 'credential|pull|error' "$LOGS/kubelet.log" | tail -n 6 | tr '\n' ' ')"

# --- what proves it ------------------------------------------------------------------------------
grep -q "$APP_DIGEST" "$LOGS/ctr-images.txt" || fail "containerd has $APP_REF but not the pushed digest $APP_DIGEST"
ntok=$(curl -fsS "$FAKE_URL/_fake/tokens" | jq --arg p "$DEV_ARN" '[.[] | select(.edition == "personal" and .principal == $p)] | length') ||
  fail "cannot read the fake's issued tokens"
[ "$ntok" -ge 1 ] || fail "the fake issued no Personal Edition token to $DEV_ARN: the pull did not go through the plugin"
ls "$NODE/var/lib/kubelet/credential-provider/bin/acr-credential-provider" >/dev/null 2>&1 ||
  fail "no acr-credential-provider in the installed plugin directory"
# containerd fetched the pod's image's blobs as cr_temp_user (the credentials came from the kubelet).
grep 'useragent="containerd/' "$LOGS/registry-private.log" | grep 'auth.user.name=cr_temp_user' |
  grep 'http.request.method=GET' | grep -q 'http.request.uri="\?/v2/e2e-ns/kubelet-app/blobs/' ||
  fail "the private registry logged no blob fetch of containerd for the pod's image authenticated as cr_temp_user"
grep -q 'Generating per pod credential provider" provider="acr-credential-provider" podName="acr-private-app' "$LOGS/kubelet.log" ||
  fail "the kubelet did not run acr-credential-provider for the pod"
grep -q "reason=\"Pulled\" message=\"Successfully pulled image \\\\\"$APP_REF\\\\\"" "$LOGS/kubelet.log" ||
  fail "the kubelet logged no Pulled event for $APP_REF"
note "issued tokens: $ntok; containerd: $(grep -c . "$LOGS/ctr-tasks.txt") task lines"
result "PASS kubelet-pull"
