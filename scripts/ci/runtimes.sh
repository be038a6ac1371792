#!/usr/bin/env bash
# Runs @dgramx/dgram under Bun and Deno (both from npm, pinned), with the driver each picks by
# default. Needs the workspace installed and built first (pnpm install, build:native, build).
# Usage: scripts/ci/runtimes.sh [bun|deno|all]
#
# Deno runs every test file. What it skips is skipped per test, with the condition in the test
# (isDeno / foreignRuntime / versionGateDiffers / referenceEval from test/runtime.ts):
# - Version-gated node:dgram behaviour where Deno's reported Node version (26.3.0, which the
#   facade follows, src/version.ts) and the recording Node's fall on two sides of the change:
#   bind.test.ts "a trailing callback is a once-listener…", "EADDRINUSE arrives as error…" and
#   "bind with a callback and no error listener…" (24.21: bind's cleanup via errorMonitor);
#   sync-api.test.ts "exist on both or on neither" (24.19: bindSync/connectSync).
# - sync-api.test.ts's 12 differential bindSync/connectSync cases: the recording Node lacks the
#   API (skipped on Node 20 too); "the running Node decides…" checks the runtime's own node:dgram.
# - Where the facade rightly defers to Deno's dns.lookup: bind.test.ts 'bind(0, "localhost")'
#   (Deno calls back before a nextTick queued after the call) and "a non-string address throws…"
#   (Deno's ERR_INVALID_ARG_TYPE has own name/toString keys).
# - bind-fd.test.ts "a TCP listener…": the descriptor comes from net.Server's _handle, which
#   Deno's node:net lacks.
# - Deno's worker_threads lacks parentPort.close(): examples-dir.test.ts and reuseport.test.ts
#   "reuseport-workers.mjs…", docs-snippets.test.ts docs/beyond-node-dgram.md line 220.
# - Deno's node:fs refuses descriptors it did not open (received ones): docs-snippets.test.ts
#   docs/unix-dgram.md lines 310 and 374 (the tests read them through /proc/self/fd instead).
# - cluster.test.ts "cluster workers…": Deno's node:cluster starts no workers.
# - link-local.test.ts "rinfo.address, address() and remoteAddress() carry '%zone'…": its
#   namespace children compare the runtime's node:dgram with ours, and Deno's drops the zone.
# - bind.test.ts "reusePort is bind ENOTSUP on Windows" (Windows only, as under Node);
#   queue-64bit.test.ts's two cases need more free memory than this machine has (as under Node).
# - OPEN BUG (ours, not Deno's): unix-backpressure.test.ts's two 200,000-datagram floods
#   ("unconnected: …" and "connected: … by a slow receiver in another process"). With both
#   ends on the reactor-thread driver under Deno a flood sometimes stops making progress (no
#   send callbacks for minutes) in about one run in three, even with its waits doubled; it
#   passes in ~50 s otherwise. Skipped under Deno until it is found, with the docs snippets that
#   pump through 'drain' the same way (docs-snippets.test.ts docs/unix-dgram.md lines 219 and
#   255; 255 stalled once in 20 s).
# - Not sorted yet: dep0112.test.ts (7 tests, skipped under Bun and Deno by its own condition:
#   it compares node:dgram's private members and DeprecationWarning output in one process);
#   unix-fair-queue.test.ts "a stuck peer is retried with one syscall per retry…" (under Deno
#   sendmmsg carried 2 datagrams more than the queue count the child read at the stall).
# Also narrowed, not skipped: driver-mode.test.ts expects the thread as Deno's default and leaves
# out the DGRAMX_DRIVER=uv-poll override (no libuv loop under Deno); the strace tests of
# unix-backpressure and unix-fair-queue run the thread driver only; promises.test.ts's abort-shape test checks our error's
# fields but not equality with the runtime's events.on (Deno's AbortError has no cause).
# Children that run node:dgram as the reference, or need Node's command line or package
# resolution (packaging, subpaths, reuseport's member processes), run the real `node` on PATH;
# children that run our module run under Deno (test/child.ts, bind-fd's handover, ...).
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
# replayed under each runtime (test/golden.ts); `both` tables test only ours there.
# Every file that compares with node:dgram through the harness or golden.ts directly.
DIFFERENTIAL=$(grep -lE 'sameAsNode|golden\.reference' test/*.test.ts | tr '\n' ' ')
record_golden() {
  # Recorded again when the recording code, a differential file or the reference Node changes.
  local stamp
  # shellcheck disable=SC2086
  stamp=$( (node --version; cat test/golden.ts test/harness.ts $DIFFERENTIAL) | sha256sum | cut -c1-16)
  [ -f "$golden/.stamp-$stamp" ] && [ -z "${DGRAMX_GOLDEN_REFRESH:-}" ] && return 0
  rm -rf "$golden"
  # shellcheck disable=SC2086
  DGRAMX_GOLDEN_DIR=$golden DGRAMX_GOLDEN=record node node_modules/vitest/vitest.mjs run $DIFFERENTIAL \
    >"$root/target/runtimes/golden-record.log" 2>&1 ||
    echo "runtimes: recording node:dgram observations had failures (see target/runtimes/golden-record.log)"
  mkdir -p "$golden" && touch "$golden/.stamp-$stamp"
}

# Left out under Bun (Deno runs them, see the top), each for a reason about the runtime, not us:
EXCLUDE=(
  # These spawn process.execPath with node's own command line (-e, --expose-gc, worker
  # examples, a second node handing over a descriptor) and expect node's answers to it; under
  # bun/deno process.execPath is that runtime, which takes a different command line.
  --exclude test/driver-mode.test.ts    # also asserts uv-poll as the default, which is Node's
  --exclude test/packaging.test.ts
  --exclude test/examples-dir.test.ts
  --exclude test/reuseport.test.ts
  --exclude test/bind-fd.test.ts
)

# The files that pass under each runtime today. The others fail there for reasons not yet
# sorted (issue 14 stays open): node:dgram's own version gates and error shapes as the runtime
# reports them (create-socket, bind, close, connect, send, options, sync-api), the event order
# between immediates (event-order under the paced thread driver), and child processes started
# with Node's command line (lifetime, loader, examples, docs-snippets, peers under Deno).
# lifetime.test.ts also counts the process's own descriptors, which Bun opens and closes by
# itself (it passed and failed in successive runs).
# DGRAMX_RUNTIMES_ALL=1 runs every file instead, to see where each runtime stands.
BUN_FILES="test/batch.test.ts test/examples.test.ts test/harness.test.ts test/icmp.test.ts
  test/loader.test.ts test/metadata.test.ts test/netns.test.ts
  test/offload.test.ts test/peers.test.ts test/promises.test.ts test/receive.test.ts
  test/sd-notify.test.ts test/subpaths.test.ts test/syslog.test.ts test/tick-batch.test.ts
  test/types.test.ts test/unix-addressing.test.ts test/unix-backpressure.test.ts
  test/unix-files.test.ts test/unix-types.test.ts"
# Deno runs every file (its per-test exclusions are listed at the top).
DENO_FILES=""

status=0
run_one() { # name, files, command...
  local name=$1 files=$2; shift 2
  local log=$root/target/runtimes/$name.log start=$SECONDS
  [ -n "${DGRAMX_RUNTIMES_ALL:-}" ] && files=""
  local excludes=("${EXCLUDE[@]}")
  [ "$name" = deno ] && excludes=()
  echo "runtimes: $name runs ${files:-every file}"
  local smoke
  smoke=$("$@" "$root/.github/scripts/smoke.cjs" 2>&1) || status=1
  echo "runtimes: $name $(echo "$smoke" | tail -1)"
  # shellcheck disable=SC2086
  DGRAMX_GOLDEN_DIR=$golden DGRAMX_GOLDEN=replay "$@" node_modules/vitest/vitest.mjs run ${excludes[@]+"${excludes[@]}"} $files >"$log" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || status=1
  echo "runtimes: $name ($((SECONDS - start)) s, exit $rc, log target/runtimes/$name.log)"
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +(Test Files|Tests) ' | sed "s/^/runtimes: $name /"
}

# The Deno run doubles the suite's hang-guard waits (DGRAMX_TEST_TIME_SCALE, test/time-scale.ts):
# its children start slower than Node's on a loaded machine, and every socket there uses the
# reactor-thread driver, whose cross-thread wake-ups suffer most from CPU contention.
deno_time_scale() { export DGRAMX_TEST_TIME_SCALE=${DGRAMX_TEST_TIME_SCALE:-2}; }

record_golden
case $which_runtimes in
  bun) run_one bun "$BUN_FILES" "$BUN" --bun ;;
  deno) deno_time_scale; run_one deno "$DENO_FILES" "$DENO" run -A ;;
  all) run_one bun "$BUN_FILES" "$BUN" --bun; deno_time_scale; run_one deno "$DENO_FILES" "$DENO" run -A ;;
  *) echo "usage: $0 [bun|deno|all]"; exit 2 ;;
esac
exit $status
