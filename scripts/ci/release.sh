#!/usr/bin/env bash
# CI leg "release": the registry test (packages/registry-test/run.mjs), i.e. the release command
# scripts/publish.mjs run against verdaccio on loopback with every binary this run built, then
# installs with npm, pnpm, hot-shots over @dgramx/unix-dgram, and a musl Node.
#
#   bash scripts/ci/release.sh
#
# Needs before it: `pnpm install`, the host build (pnpm run build:native && pnpm run build, which
# leaves npm/linux-x64-gnu/dgram.linux-x64-gnu.node and packages/dgram/dist), and the cross
# builds in target/release-targets/<tuple>/ (scripts/build-target.sh). The one binary this leg
# needs for itself, linux-x64-musl, is built here if no earlier leg left it. Runs as root (the
# musl loader is installed with dpkg; the musl install runs in a private mount namespace).
# Ends with the registry test's own `N passed, N failed` line.
set -euo pipefail
cd "$(dirname "$0")/../.."

musl_node="target/release-targets/linux-x64-musl/dgram.linux-x64-musl.node"
if [ ! -f "$musl_node" ]; then
  if [ -f scripts/build-target.sh ]; then
    bash scripts/build-target.sh x86_64-unknown-linux-musl
  else
    # Until scripts/build-target.sh exists: napi's cargo-zigbuild path, as the release workflow.
    command -v cargo-zigbuild >/dev/null 2>&1 || python3 -m pip install --disable-pip-version-check -q ziglang cargo-zigbuild
    rustup target add x86_64-unknown-linux-musl
    out="$(mktemp -d)"
    (cd packages/dgram && pnpm exec napi build --platform --release -x --target x86_64-unknown-linux-musl \
      --manifest-path ../../crates/dgramx-node/Cargo.toml --package-json-path package.json \
      --output-dir "$out" --no-js --no-dts-header)
    mkdir -p "$(dirname "$musl_node")"
    cp "$out/dgram.linux-x64-musl.node" "$musl_node"
    rm -rf "$out"
  fi
fi

# shellcheck source=lib/musl-node.sh
source scripts/ci/lib/musl-node.sh
musl_node_provision target/musl-node

pnpm --filter @dgramx/registry-test run registry-test
