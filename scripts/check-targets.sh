#!/usr/bin/env bash
# Type-checks the shipped crates (dgramx-core, dgramx-node, with their tests) for the two msvc
# targets, the only release targets nothing on this machine can link (no Windows SDK or MSVC
# CRT libraries are reachable): `cargo check` with rustup's prebuilt std for the target, warnings
# denied, so cfg mistakes in the msvc paths (napi-sys loads Node-API at run time there, the
# Windows socket code) show up here rather than in a release workflow. Every other target is
# built for real, linked and verified by scripts/build-all-targets.sh and
# scripts/verify-binaries.mjs (scripts/ci/cross.sh); x86_64-pc-windows-gnu, linked there, runs
# the Windows code itself under Wine. The msvc binaries themselves are built and tested on
# Windows runners (.github/workflows/build.yml, platforms.yml).
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t targets < <(node -p "require('./packages/dgram/package.json').napi.targets.filter((t) => t.endsWith('-msvc')).join('\n')")
installed="$(rustup target list --installed)"
for t in "${targets[@]}"; do
  grep -qx "$t" <<<"$installed" || rustup target add "$t"
done
echo "check-targets: $(rustc --version), cargo check for ${targets[*]}"

failed=()
for target in "${targets[@]}"; do
  printf '%-32s ' "$target"
  log="$(mktemp)"
  if RUSTFLAGS="-D warnings" cargo check -p dgramx-core -p dgramx-node --all-targets --locked \
      --target "$target" --message-format short >"$log" 2>&1; then
    echo "ok"
  else
    echo "FAILED"
    grep -E '^(crates|error|warning)' "$log" | grep -v '^warning: build failed' | head -40 | sed 's/^/    /'
    failed+=("$target")
  fi
  rm -f "$log"
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "check-targets: ${#failed[@]} target(s) failed: ${failed[*]}"
  exit 1
fi
echo "check-targets: all targets type-check"
