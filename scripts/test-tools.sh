#!/usr/bin/env bash
# Makes sure of the system packages the tests drive: Debian's chromium (the web panel test;
# EV_CHROMIUM names another browser), tmux (the terminal and deploy script tests), iproute2
# (the three-host test) and openssl (the TLS test makes its certificates). Installs the missing
# ones with apt-get when run as root; otherwise prints the command that does, and exits 1.
# `deno task test` (scripts/run_tests.ts) and .ci/run both run it: the list lives here only.
# Idempotent: quiet when nothing is missing.
set -uo pipefail
missing=()
if [ -n "${EV_CHROMIUM:-}" ]; then
  [ -x "$EV_CHROMIUM" ] || {
    echo "error: EV_CHROMIUM=$EV_CHROMIUM is not a browser; unset it to use Debian's chromium" >&2
    exit 1
  }
else
  [ -x /usr/bin/chromium ] || missing+=(chromium)
fi
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0

install="apt-get install -y ${missing[*]}"
if [ "$EUID" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: the tests need ${missing[*]}: install them as root with: $install" >&2
  exit 1
fi
echo "installing ${missing[*]} (the tests drive them)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >/dev/null; then
  echo "error: apt-get could not install ${missing[*]}; try: apt-get update && $install" >&2
  exit 1
fi
