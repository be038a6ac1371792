#!/usr/bin/env bash
# Runs @dgramx/dgram under Bun and Deno (both from npm, pinned), with the driver each picks by
# default. Needs the workspace installed and built first (pnpm install, build:native, build).
# Usage: scripts/ci/runtimes.sh [bun|deno|all]
set -uo pipefail

BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
which_runtimes=${1:-all}
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${DGRAMX_RUNTIMES_DIR:-$root/target/runtimes}
mkdir -p "$tools"

install_tools() {
  # npm blocks bun's install script, which is fine: the package ships the binary itself.
  local want=()
  [ -x "$tools/node_modules/bun/bin/bun.exe" ] &&
    [ "$("$tools/node_modules/bun/bin/bun.exe" --version)" = "$BUN_VERSION" ] || want+=("bun@$BUN_VERSION")
  [ -x "$tools/node_modules/@deno/linux-x64-glibc/deno" ] &&
    "$tools/node_modules/@deno/linux-x64-glibc/deno" --version | grep -q "^deno $DENO_VERSION " ||
    want+=("@deno/linux-x64-glibc@$DENO_VERSION")
  if [ ${#want[@]} -gt 0 ]; then
    (cd "$tools" && [ -f package.json ] || echo '{"private":true}' > package.json
     cd "$tools" && npm install --no-audit --no-fund --no-save "${want[@]}" >/dev/null) || return 1
  fi
}
install_tools || { echo "runtimes: installing bun/deno failed"; exit 1; }
BUN=$tools/node_modules/bun/bin/bun.exe
DENO=$tools/node_modules/@deno/linux-x64-glibc/deno
