#!/usr/bin/env bash
# Installed by e2e/run.sh as docker-credential-acr on the clients' PATH. It runs the real helper
# binary ($E2E_REAL_HELPER) with the same arguments, stdin and environment, passes its stdout,
# stderr and exit status through unchanged, and appends a record of the call to
# $E2E_HELPER_LOG so that the scenarios can check which client asked for which host and what
# the helper answered (user name only, never the secret) and said on stderr.
set -u
real=${E2E_REAL_HELPER:?E2E_REAL_HELPER is not set}
log=${E2E_HELPER_LOG:-/dev/null}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/in"
"$real" "$@" <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/out"
cat "$tmp/err" >&2
client=$(cat "/proc/$PPID/comm" 2>/dev/null || echo unknown)
{
  printf 'call action=%s client=%s host=%s rc=%d' "${1:-}" "$client" "$(tr -d '\n' <"$tmp/in")" "$rc"
  if [ "$rc" = 0 ] && [ "${1:-}" = get ]; then
    printf ' user=%s\n' "$(jq -r '.Username // "?"' "$tmp/out" 2>/dev/null)"
  else
    printf ' stdout=%s\n' "$(tr '\n' ' ' <"$tmp/out")"
  fi
  sed 's/^/  stderr: /' "$tmp/err"
} >>"$log"
exit "$rc"
