#!/usr/bin/env bash
# Runs the Rust core's test binaries under valgrind memcheck: any invalid access, use of
# uninitialised memory or definite leak fails the run. (The std test harness leaves
# "possibly lost" thread bookkeeping behind, so only definite leaks count.)
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t binaries < <(cargo test -p dgramx-core --locked --no-run --message-format=json 2>/dev/null \
  | node -e '
    let s = ""
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const line of s.split("\n")) {
        if (!line) continue
        const m = JSON.parse(line)
        if (m.reason === "compiler-artifact" && m.executable && m.profile.test) console.log(m.executable)
      }
    })')

[ "${#binaries[@]}" -gt 0 ] || { echo "valgrind: no test binaries found" >&2; exit 1; }
for bin in "${binaries[@]}"; do
  echo "valgrind: $(basename "$bin")"
  # One test thread keeps valgrind's serialised scheduler from timing out socket waits.
  out="$(mktemp)"
  rc=0
  valgrind --quiet --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite "$bin" --test-threads=1 >"$out" 2>&1 || rc=$?
  grep -E '^(test result|==)' "$out" || true
  if [ "$rc" -ne 0 ]; then
    cat "$out" >&2
    echo "valgrind: $(basename "$bin") failed (exit $rc)" >&2
    exit 1
  fi
done
echo "valgrind: ${#binaries[@]} test binaries clean"
