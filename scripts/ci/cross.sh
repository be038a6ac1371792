#!/usr/bin/env bash
# CI leg "cross" (issue 14): every release target that can be linked here is built as a real,
# linked release binary (scripts/build-all-targets.sh: all napi targets but the two msvc ones,
# plus x86_64-pc-windows-gnu as their stand-in) and checked against its npm package with
# `verify-binaries --release`. Nothing is run here; other legs run these binaries under
# QEMU, Wine and a musl Node.
#
#   bash scripts/ci/cross.sh
# Needs: Rust (rustup), Node, python3/pip; installs zig, cargo-zigbuild and the Rust targets
# itself. Output: target/release-targets/<suffix>/dgram.<suffix>.node (CARGO_TARGET_DIR honoured).
# Prints one line per target (`cross: <suffix> ok|FAILED`), the verify-binaries tests' own
# summary, and ends with `cross: N passed, N failed` (targets, plus the test file as one).
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${CARGO_TARGET_DIR:-target}/release-targets"
start=$SECONDS

mapfile -t targets < <(bash scripts/build-all-targets.sh --list)
build_log="$(mktemp)"
trap 'rm -f "$build_log"' EXIT
bash scripts/build-all-targets.sh 2>&1 | tee "$build_log"

passed=0
failed=0
lines=()
for t in "${targets[@]}"; do
  suffix="$(bash scripts/build-target.sh --suffix "$t")"
  if ! grep -Eq "^$t +$suffix +ok " "$build_log"; then
    lines+=("cross: $suffix FAILED (build; log $out/logs/$suffix.log)")
    failed=$((failed + 1))
  elif verdict="$(node scripts/verify-binaries.mjs --release "$out/$suffix" | grep -E '^(ok|FAILED) ')"; [[ "$verdict" == ok* ]]; then
    lines+=("cross: $suffix ok")
    passed=$((passed + 1))
  else
    lines+=("cross: $suffix FAILED (verify: ${verdict:-no output})")
    failed=$((failed + 1))
  fi
done

echo "--- verify-binaries tests"
if node --test scripts/verify-binaries.test.mjs 2>&1 | tail -9; then
  lines+=("cross: verify-binaries tests ok")
  passed=$((passed + 1))
else
  lines+=("cross: verify-binaries tests FAILED")
  failed=$((failed + 1))
fi

echo "--- cross summary ($((SECONDS - start))s)"
printf '%s\n' "${lines[@]}"
echo "cross: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
