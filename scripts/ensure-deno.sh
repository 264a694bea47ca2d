#!/usr/bin/env bash
# Source this file: it puts a Deno on PATH. It uses the `deno` already on PATH when it is
# Deno 2, otherwise installs the pinned npm package `deno` into .tools/deno (no network
# other than the npm registry is needed) and uses that.
DENO_VERSION="2.9.6"
_ev_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_ev_local="$_ev_root/.tools/deno/node_modules/.bin"
if [ -x "$_ev_local/deno" ]; then
  export PATH="$_ev_local:$PATH"
elif ! command -v deno >/dev/null 2>&1 || ! deno --version 2>/dev/null | grep -q '^deno 2\.'; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: Deno 2 is not installed and npm is not available to install it." >&2
    echo "Install Node.js (npm) or Deno 2, then try again." >&2
    return 1 2>/dev/null || exit 1
  fi
  echo "Installing Deno $DENO_VERSION from the npm registry into .tools/deno …" >&2
  mkdir -p "$_ev_root/.tools/deno"
  (cd "$_ev_root/.tools/deno" && npm install --silent --no-audit --no-fund --no-save "deno@$DENO_VERSION" >&2) || {
    echo "error: npm could not install deno@$DENO_VERSION" >&2
    return 1 2>/dev/null || exit 1
  }
  export PATH="$_ev_local:$PATH"
fi
unset _ev_root _ev_local
