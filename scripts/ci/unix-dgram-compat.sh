#!/usr/bin/env bash
# unix-dgram's own test files (from its npm tarball, pinned) against @dgramx/unix-dgram: the
# acceptance test of the compat package. The same files also run against the real unix-dgram,
# built here from source (gcc + the node-gyp bundled with npm), so a failure can be told apart
# from a problem of the files or of the machine.
#
# Needs the workspace installed and built first (pnpm install, build:native, build).
# Usage: scripts/ci/unix-dgram-compat.sh
# Then scripts/ci/unix-dgram-contract.cjs records what a caller observes in each of its scenarios
# (error shapes, what happens inside each call, rinfo, close, congestion) under both, and the
# traces are compared scenario by scenario.
# Ends with "unix-dgram-compat: <what>: N passed, N failed" lines; exits non-zero if any test
# fails on either side, a trace differs, or the real unix-dgram cannot be built.
#
# How the test files reach our package: they `require('../lib/unix_dgram')`; node is started with
# -r unix-dgram-compat-shim.cjs, which resolves exactly that module to @dgramx/unix-dgram. The
# test files and lib/ stay as shipped. For the real side they run with plain node.
set -uo pipefail

UNIX_DGRAM_VERSION=2.0.7
# unix-dgram's own dependencies (its ranges: nan ^2.20.0, bindings ^1.5.0), pinned.
NAN_VERSION=2.23.0
BINDINGS_VERSION=1.5.0
TEST_TIMEOUT=60

root=$(cd "$(dirname "$0")/../.." && pwd)
work=${DGRAMX_UNIX_DGRAM_DIR:-$root/target/unix-dgram-compat}
shim=$root/scripts/ci/unix-dgram-compat-shim.cjs
compat=$root/packages/unix-dgram/index.js
mkdir -p "$work"

[ -f "$root/packages/dgram/dist/index.js" ] || { echo "unix-dgram-compat: build the workspace first (packages/dgram/dist is missing)"; exit 1; }

# ---- unix-dgram from npm: its tarball for the test files, an installed copy for the real side
pkgdir=$work/real/node_modules/unix-dgram
fetch() {
  [ -f "$pkgdir/package.json" ] && grep -q "\"version\": \"$UNIX_DGRAM_VERSION\"" "$pkgdir/package.json" && return 0
  rm -rf "$work/real" && mkdir -p "$work/real" && echo '{"private":true}' > "$work/real/package.json"
  # --ignore-scripts: the native build runs below, where its failure is reported on its own.
  (cd "$work/real" && npm install --no-audit --no-fund --no-save --ignore-scripts \
    "unix-dgram@$UNIX_DGRAM_VERSION" "nan@$NAN_VERSION" "bindings@$BINDINGS_VERSION" >/dev/null)
}
fetch || { echo "unix-dgram-compat: installing unix-dgram@$UNIX_DGRAM_VERSION from npm failed"; exit 1; }
tests=$(cd "$pkgdir" && ls test/*.js)
[ -n "$tests" ] || { echo "unix-dgram-compat: no test files in unix-dgram@$UNIX_DGRAM_VERSION"; exit 1; }

# ---- Node's headers for node-gyp, which would download them from nodejs.org (not reachable in
# CI): the ones installed with Node, else the official Node tarball's from the npm package
# node-<os>-<arch>@<version> (the build the `node` npm package installs). DGRAMX_HEADERS_FROM_NPM=1
# takes the npm route even when headers are installed (to test it).
node_headers() {
  local prefix
  prefix=$(dirname "$(dirname "$(command -v node)")")
  if [ -z "${DGRAMX_HEADERS_FROM_NPM:-}" ] && [ -f "$prefix/include/node/node.h" ]; then
    echo "$prefix"
    return 0
  fi
  local dir=$work/node-headers version arch
  version=$(node -p 'process.version.slice(1)')
  arch=$(node -p 'process.arch')
  if [ ! -f "$dir/$version/include/node/node.h" ]; then
    rm -rf "$dir" && mkdir -p "$dir/$version"
    (cd "$dir" && npm pack --silent "node-linux-$arch@$version" >/dev/null &&
      tar xzf node-linux-*.tgz -C "$version" --strip-components=1 package/include && rm -f node-linux-*.tgz) || return 1
  fi
  echo "$dir/$version"
}

# node-gyp needs a C++ compiler, make and python3; CI's base image may have gcc without g++.
build_tools() {
  local missing=()
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  command -v python3 >/dev/null || missing+=(python3)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >"$work/apt.log" 2>&1 && return 0
  fi
  echo "unix-dgram-compat: cannot build the real unix-dgram without ${missing[*]} (install them)"
  return 1
}

build_real() {
  [ -f "$pkgdir/build/Release/unix_dgram.node" ] && return 0
  build_tools || return 1
  local nodedir
  nodedir=$(node_headers) || { echo "unix-dgram-compat: no Node headers (neither installed nor from npm)"; return 1; }
  # npm rebuild runs the package's install step (node-gyp rebuild, with npm's own node-gyp).
  (cd "$work/real" && npm_config_nodedir=$nodedir npm rebuild unix-dgram --foreground-scripts >"$work/node-gyp.log" 2>&1) &&
    [ -f "$pkgdir/build/Release/unix_dgram.node" ] ||
    { echo "unix-dgram-compat: building the real unix-dgram failed (see $work/node-gyp.log)"; return 1; }
}

# ---- running the files. They use fixed paths (/tmp/unix_dgram.sock): as root each run gets a
# private /tmp (a mount namespace), so nothing else on the machine is touched; otherwise they
# run as they are.
# A checkout (or work directory) under /tmp would vanish under the private one: then not.
private_tmp=no
case "$(realpath "$root")/ $(realpath -m "$work")/" in
  /tmp/* | *" /tmp/"*) private_tmp="no (the checkout is under /tmp)" ;;
  *) [ "$(id -u)" = 0 ] && unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /tmp' 2>/dev/null && private_tmp=yes ;;
esac
isolated() {
  if [ "$private_tmp" = yes ]; then
    unshare --mount --propagation private sh -c 'mount -t tmpfs tmpfs /tmp && exec "$@"' sh "$@"
  else
    "$@"
  fi
}

# run_side <log-name> <label> [node args...]: runs every test file, prints one line per file
# and the summary.
status=0
run_side() {
  local slug=$1 name=$2 passed=0 failed=0 t rc log
  shift 2
  for t in $tests; do
    log=$work/$slug-$(basename "$t" .js).log
    (cd "$pkgdir" && UNIX_DGRAM_COMPAT=$compat isolated timeout "$TEST_TIMEOUT" node "$@" "$t") >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
      passed=$((passed + 1))
      echo "  ok    $name $t"
    else
      failed=$((failed + 1))
      echo "  FAIL  $name $t (exit $rc; last lines of $log:)"
      tail -n 5 "$log" | sed 's/^/          /'
    fi
  done
  echo "unix-dgram-compat: $name: $passed passed, $failed failed"
  [ $failed -eq 0 ] || status=1
}

echo "unix-dgram@$UNIX_DGRAM_VERSION's own tests ($(echo $tests | wc -w) files), node $(node -v), private /tmp: $private_tmp"
# compare_traces: unix-dgram-contract.cjs's scenarios (error shapes, what happens inside each
# call, rinfo, close, congestion) under both, compared scenario by scenario.
compare_traces() {
  local contract=$root/scripts/ci/unix-dgram-contract.cjs
  local real_rc=0 ours_rc=0
  (cd "$work" && isolated timeout "$TEST_TIMEOUT" node "$contract" "$pkgdir") >"$work/traces-real.jsonl" 2>&1 || real_rc=$?
  (cd "$work" && isolated timeout "$TEST_TIMEOUT" node "$contract" "$compat") >"$work/traces-ours.jsonl" 2>&1 || ours_rc=$?
  # A side that crashed fails the comparison, even when both crashed alike.
  node -e '
    const fs = require("node:fs")
    let passed = 0, failed = 0
    const read = (f, side, rc) => {
      const lines = fs.readFileSync(f, "utf8").split("\n").filter(Boolean)
      const traces = new Map()
      const other = []
      for (const l of lines) {
        try { const j = JSON.parse(l); traces.set(j.scenario, JSON.stringify(j.trace)) } catch { other.push(l) }
      }
      if (rc !== "0" || other.length > 0) {
        failed++
        console.log("  FAIL  the contract scenarios under " + side + " exited " + rc + (other.length ? ":\n          " + other.slice(0, 8).join("\n          ") : ""))
      }
      return traces
    }
    const real = read(process.argv[1], "the real unix-dgram", process.argv[3]), ours = read(process.argv[2], "ours", process.argv[4])
    for (const [name, trace] of real) {
      if (ours.get(name) === trace) { passed++; console.log("  ok    trace: " + name) }
      else { failed++; console.log("  FAIL  trace: " + name + "\n          real: " + trace + "\n          ours: " + ours.get(name)) }
    }
    if (real.size === 0) { failed++; console.log("  FAIL  no traces from the real unix-dgram") }
    console.log("unix-dgram-compat: contract traces, ours vs real: " + passed + " passed, " + failed + " failed")
    process.exit(failed ? 1 : 0)
  ' "$work/traces-real.jsonl" "$work/traces-ours.jsonl" "$real_rc" "$ours_rc" || status=1
}

run_side ours "@dgramx/unix-dgram" -r "$shim"
if build_real; then
  run_side real "real unix-dgram"
  compare_traces
else
  echo "unix-dgram-compat: the real unix-dgram could not be built, so its side and the trace comparison did not run"
  status=1
fi
exit $status
