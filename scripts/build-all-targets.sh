#!/usr/bin/env bash
# Builds every release target that can be linked on this machine with scripts/build-target.sh:
# each napi target of packages/dgram/package.json except the msvc ones (no Windows SDK or MSVC
# CRT here), plus x86_64-pc-windows-gnu as their stand-in. One line per target at the end:
#   <triple> <suffix> ok|FAILED <seconds>s
# and `build-all-targets: N passed, N failed`. Exits non-zero when any target failed.
#
#   bash scripts/build-all-targets.sh            # logs in target/release-targets/logs/<suffix>.log
#   bash scripts/build-all-targets.sh --list     # only the triples
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t targets < <(node -p "require('./packages/dgram/package.json').napi.targets.filter((t) => !t.endsWith('-msvc')).concat('x86_64-pc-windows-gnu').join('\n')")
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
log_dir="${CARGO_TARGET_DIR:-target}/release-targets/logs"
mkdir -p "$log_dir"

# Tools and every target's std once, up front, so the per-target times are build times.
bash scripts/build-target.sh --install-only "${targets[@]}"

start=$SECONDS
results=()
passed=0
failed=0
for t in "${targets[@]}"; do
  suffix="$(bash scripts/build-target.sh --suffix "$t")"
  t0=$SECONDS
  if bash scripts/build-target.sh "$t" >"$log_dir/$suffix.log" 2>&1; then
    results+=("$(printf '%-32s %-20s ok     %4ss' "$t" "$suffix" "$((SECONDS - t0))")")
    passed=$((passed + 1))
  else
    results+=("$(printf '%-32s %-20s FAILED %4ss  (log: %s)' "$t" "$suffix" "$((SECONDS - t0))" "$log_dir/$suffix.log")")
    failed=$((failed + 1))
    tail -20 "$log_dir/$suffix.log" | sed "s/^/  $suffix: /" >&2
  fi
  echo "${results[-1]}"
done
echo "build-all-targets: ${#targets[@]} targets in $((SECONDS - start))s"
echo "build-all-targets: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
