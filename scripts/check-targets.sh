#!/usr/bin/env bash
# Type-checks the shipped crates (dgramx-core, dgramx-node; the benchmark's ceiling program is
# host-only) for every target in the napi config, not only the one this
# machine can build: `cargo check` with the standard library built from source for the target
# (-Zbuild-std), so cfg mistakes for Windows, macOS, FreeBSD, musl and 32-bit ARM show up here
# instead of in a release workflow. Nothing is linked and nothing runs; the workflows in
# .github/ still build and test each target on its own OS.
#
# Needs a rustc that has its library sources: Debian's rustc-web, cargo-web and rust-web-src
# (bookworm-security), installed by .ci/run. RUSTC_BOOTSTRAP unlocks -Zbuild-std on that
# stable compiler; it is used for this check only, never for a build we ship.
set -euo pipefail
cd "$(dirname "$0")/.."

RUSTC="${CHECK_RUSTC:-/usr/bin/rustc}"
CARGO="${CHECK_CARGO:-/usr/bin/cargo}"
sysroot="$("$RUSTC" --print sysroot)"
if [ ! -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  echo "check-targets: $RUSTC has no library sources under $sysroot/lib/rustlib/src/rust" >&2
  echo "  install them: apt-get install -t bookworm-security rustc-web cargo-web rust-web-src" >&2
  exit 1
fi

host="$(rustc -vV | sed -n 's/^host: //p')"
mapfile -t targets < <(node -p "require('./packages/dgram/package.json').napi.targets.join('\n')")
echo "check-targets: $("$RUSTC" --version) for ${#targets[@]} targets (host $host is built and tested for real)"

failed=()
for target in "${targets[@]}"; do
  [ "$target" = "$host" ] && continue
  printf '%-32s ' "$target"
  log="$(mktemp)"
  if RUSTC_BOOTSTRAP=1 RUSTC="$RUSTC" RUSTFLAGS="-D warnings" "$CARGO" check -p dgramx-core -p dgramx-node --all-targets --locked \
      --target "$target" -Zbuild-std=std,panic_abort --target-dir target/check-targets \
      --message-format short >"$log" 2>&1; then
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
