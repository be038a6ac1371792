#!/usr/bin/env bash
# CI leg "release": the registry test (packages/registry-test/run.mjs), i.e. the release command
# scripts/publish.mjs run against verdaccio on loopback with every binary this run built, then
# installs with npm, pnpm, hot-shots over @dgramx/unix-dgram, and a musl Node.
#
#   bash scripts/ci/release.sh
#
# Needs before it: `pnpm install`, the host build (pnpm run build:native && pnpm run build, which
# leaves npm/linux-x64-gnu/dgram.linux-x64-gnu.node and packages/dgram/dist), and the cross
# builds in target/release-targets/<tuple>/ (scripts/build-target.sh; linux-x64-musl is built
# here if no earlier leg left it). Runs as root (the
# musl loader is installed with dpkg; the musl install runs in a private mount namespace).
# Ends with the registry test's own `N passed, N failed` line.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The one binary this leg needs for itself; built once (scripts/build-target.sh skips nothing, so
# only when no earlier leg left it).
if [ ! -f target/release-targets/linux-x64-musl/dgram.linux-x64-musl.node ]; then
  bash scripts/build-target.sh x86_64-unknown-linux-musl
fi

# shellcheck source=lib/musl-node.sh
source scripts/ci/lib/musl-node.sh
musl_node_provision target/musl-node

pnpm --filter @dgramx/registry-test run registry-test
