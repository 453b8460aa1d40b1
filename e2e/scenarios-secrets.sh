# shellcheck shell=bash
# Sourced by e2e/scenarios.sh (after its registry table and API host names, before the /etc/hosts
# and the certificate are made): registries that are not ACR, whose logins the helper reads from
# KMS Secrets Manager secrets of the fake's world (testdata/world.json "secrets").
#
#   dockerhub  127.0.0.18  registry-1.docker.io, also index.docker.io and docker.io: Docker Hub's
#                          names (skopeo and regctl call registry-1.docker.io, crane index.docker.io)
#   ghcr       127.0.0.19  ghcr.io
#
# Each is a distribution registry whose htpasswd user and password are the secret's login. The
# helper calls KMS at its real names, kms.<region>.aliyuncs.com, which the private /etc/hosts
# sends to the fake through the TLS front (the fake reads the region from the Host header, so a
# secret asked for in the wrong region is not found).

# secret_member NAME MEMBER: a member (any letter case) of the current value of the world's secret NAME.
secret_member() {
  jq -er --arg n "$1" --arg m "$2" \
    '.secrets[] | select(.name == $n) | .versions[0].data | fromjson | to_entries[] | select((.key | ascii_downcase) == $m) | .value' "$WORLD"
}

while read -r id addr host secret aliases; do
  [ -n "$id" ] || continue
  REG_IDS+=("$id")
  HOST[$id]=$host
  ADDR[$id]=$addr
  INST[$id]=secret:$secret
  ALIASES[$id]=$aliases
  REG_USER[$id]=$(secret_member "$secret" username) || REG_USER[$id]=''
done <<'EOF'
dockerhub 127.0.0.18 registry-1.docker.io dockerhub-pull index.docker.io docker.io
ghcr      127.0.0.19 ghcr.io              ghcr-pull
EOF
API_HOSTS+=(kms.cn-hangzhou.aliyuncs.com kms.cn-shanghai.aliyuncs.com)

# secret_answered CLIENT USER HOSTRE: the helper handed CLIENT the login of USER for a host matching HOSTRE.
secret_answered() {
  local client=$1 user=$2 hostre=$3
  grep -Eq "^call action=get client=$client host=($hostre) rc=0 user=$user\$" "$S/helper.log" ||
    fail "the helper did not hand $client the login of $user (helper log: $(grep '^call' "$S/helper.log" | tr '\n' ';'))"
}

sc_secret_registries() {
  local ref c pw user secret hostre kmshost
  write_config <<EOF
registries:
  - domains: [${HOST[ghcr]}]
    secret: ghcr-pull
    regionId: cn-hangzhou
  - domains: [docker.io]
    secret: acs:kms:cn-shanghai:2222222222222222:secret/dockerhub-pull
    arnService: acs:ram::1111111111111111:role/role-assume
    arnUser: acs:ram::2222222222222222:role/role-acr
EOF
  with_access_key service
  # The clients' config comes from the helper itself: every Docker Hub name, and ghcr.io.
  cenv "$BIN/real/docker-credential-acr" configure-docker >"$S/configure.log" 2>&1 ||
    fail "configure-docker failed: $(tail -n 3 "$S/configure.log" | tr '\n' ' ')"
  for c in https://index.docker.io/v1/ index.docker.io registry-1.docker.io docker.io ghcr.io; do
    jq -e --arg k "$c" '.credHelpers[$k] == "acr"' "$S/docker/config.json" >/dev/null ||
      fail "configure-docker wrote no credHelpers entry for $c: $(tr '\n' ' ' <"$S/docker/config.json")"
  done
  note "credHelpers: $(jq -c .credHelpers "$S/docker/config.json")"

  for secret in ghcr-pull dockerhub-pull; do
    user=$(secret_member "$secret" username) || fail "no username in the world's secret $secret"
    pw=$(secret_member "$secret" password) || fail "no password in the world's secret $secret"
    if [ "$secret" = ghcr-pull ]; then
      ref=${HOST[ghcr]}/e2e-org/app:v1 hostre='ghcr\.io' kmshost=kms.cn-hangzhou.aliyuncs.com
    else
      ref=docker.io/e2e/hello:v1 hostre='https://index\.docker\.io/v1/|index\.docker\.io|registry-1\.docker\.io|docker\.io'
      kmshost=kms.cn-shanghai.aliyuncs.com
    fi
    push_image "$ref"
    expect_401_without_helper "$ref"
    CALLS0=$(fake_get /_fake/calls | jq length)
    for c in crane skopeo regctl; do
      pull_verify "$c" "$ref"
      secret_answered "$c" "$user" "$hostre"
    done
    # One KMS call for the pulls of three clients (the cache), at the secret's region, by the
    # identity the config names.
    expect_count "GetSecretValue calls for the pulls of $ref" "$(new_calls '.action == "GetSecretValue"')" -eq 1
    if [ "$secret" = ghcr-pull ]; then
      expect_count "GetSecretValue of ghcr-pull at $kmshost by service" \
        "$(new_calls ".action == \"GetSecretValue\" and .status == 200 and .params.SecretName == \"ghcr-pull\" and .principal == \"acs:ram::1111111111111111:user/service\" and $(api_host_is "$kmshost")")" -eq 1
    else
      expect_count "GetSecretValue of the Docker Hub ARN at $kmshost by a role-acr session" \
        "$(new_calls ".action == \"GetSecretValue\" and .status == 200 and .params.SecretName == \"acs:kms:cn-shanghai:2222222222222222:secret/dockerhub-pull\" and (.principal | startswith(\"acs:ram::2222222222222222:assumed-role/role-acr/\")) and $(api_host_is "$kmshost")")" -eq 1
    fi
    ! grep -qF -- "$pw" "$S/helper.log" || fail "the helper's stderr holds the password of $secret"
  done
  # The clients name Docker Hub differently (the docker CLI's server URL, or the host): each name
  # must reach the one entry.
  expect_count "Docker Hub names the clients asked the helper for" \
    "$(grep -Eo '^call action=get client=[a-z]+ host=(https://index\.docker\.io/v1/|index\.docker\.io|registry-1\.docker\.io|docker\.io) rc=0' "$S/helper.log" | awk '{print $4}' | sort -u | wc -l)" -ge 2
  expect_count "ACR tokens issued for registries that are not ACR" "$(new_tokens 'true')" -eq 0
}
