#!/usr/bin/env bash
# Builds the release binding (dgramx-node, release profile: LTO, stripped) for one or more Rust
# targets on this Linux x86_64 machine and puts each at
#   target/release-targets/<suffix>/dgram.<suffix>.node
# where <suffix> is napi's platform suffix, the name of the npm/<suffix> package it goes into
# (x86_64-pc-windows-gnu, which has no package, gives win32-x64-gnu: see below).
#
#   bash scripts/build-target.sh <rust-triple> [<rust-triple>...]
#   bash scripts/build-target.sh --install-only [<rust-triple>...]  # tools (and targets' std) only
#   bash scripts/build-target.sh --suffix <rust-triple>             # prints the suffix
#
# How: what `napi build --cross-compile` runs, `cargo zigbuild`, with zig as the C toolchain and
# linker for every target (zig ships the libc stubs of glibc, musl, macOS, FreeBSD and MinGW, so
# no sysroot or SDK is downloaded). The tools are installed when missing or at another version:
# the Rust target's std (rustup), zig (PyPI `ziglang`; 0.15 is the first with FreeBSD's libc
# stubs) and cargo-zigbuild (PyPI's prebuilt build of the crates.io crate, a few seconds instead
# of minutes of `cargo install`). Every target shares one CARGO_TARGET_DIR (default target/).
#
# Per target:
# - linux gnu (x64, arm64, armv7): linked against glibc 2.17 (`<triple>.2.17` for zig), the
#   floor napi-rs's own cross toolchain (--use-napi-cross) ships, and Rust's own minimum for
#   these targets: the binary loads on every glibc distribution Node 20+ runs on.
# - linux musl: musl linked dynamically (-crt-static, .cargo/config.toml), as Alpine's node is.
# - darwin: MACOSX_DEPLOYMENT_TARGET 10.13 for x64 as in .github/workflows/build.yml, 11.0 for
#   arm64 (the first macOS on Apple silicon); napi-build links
#   with `-undefined dynamic_lookup`, so the Node-API symbols stay undefined and bind to the host
#   process at load time (scripts/verify-binaries.mjs checks it). The GitHub workflow builds the
#   darwin binaries it publishes natively on macOS; these prove the same source links.
# - freebsd: zig's FreeBSD target (libc.so.7).
# - x86_64-pc-windows-gnu: the stand-in for the two msvc targets, which cannot link here (no
#   Windows SDK or MSVC CRT libraries are reachable from this machine). It runs the Windows code
#   path under Wine. It differs from what ships: MinGW instead of MSVC ABI, and the C runtime is
#   the Universal CRT DLL (api-ms-win-crt-*, part of Windows 10+) where the msvc builds link the
#   CRT statically. Like the msvc builds it finds Node-API in the host process at load time
#   (napi's dyn-symbols, crates/dgramx-node/Cargo.toml), so it imports nothing from node.exe.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIG_VERSION=0.15.2
CARGO_ZIGBUILD_VERSION=0.24.0
GLIBC_FLOOR=2.17
target_dir="${CARGO_TARGET_DIR:-target}"
out_root="$target_dir/release-targets"

suffix_of() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x64-gnu ;;
    aarch64-unknown-linux-gnu) echo linux-arm64-gnu ;;
    armv7-unknown-linux-gnueabihf) echo linux-arm-gnueabihf ;;
    x86_64-unknown-linux-musl) echo linux-x64-musl ;;
    aarch64-unknown-linux-musl) echo linux-arm64-musl ;;
    x86_64-apple-darwin) echo darwin-x64 ;;
    aarch64-apple-darwin) echo darwin-arm64 ;;
    x86_64-unknown-freebsd) echo freebsd-x64 ;;
    x86_64-pc-windows-gnu) echo win32-x64-gnu ;;
    *-pc-windows-msvc)
      echo "build-target: $1 cannot be linked here (no Windows SDK/MSVC CRT); x86_64-pc-windows-gnu is its stand-in" >&2
      return 1 ;;
    *) echo "build-target: unknown target $1" >&2; return 1 ;;
  esac
}

pip_install() {
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"
}

install_tools() {
  # pip's console scripts (cargo-zigbuild) are found there even where a pyenv shim for them was
  # never made (no rehash after `python3 -m pip install`).
  PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
  if [ "$(python3 -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ]; then
    echo "build-target: installing zig $ZIG_VERSION (PyPI ziglang)"
    pip_install "ziglang==$ZIG_VERSION"
  fi
  if ! cargo-zigbuild --version 2>/dev/null | grep -qx "cargo-zigbuild $CARGO_ZIGBUILD_VERSION"; then
    echo "build-target: installing cargo-zigbuild $CARGO_ZIGBUILD_VERSION (PyPI)"
    pip_install "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
  fi
  # The pinned zig, even if another one is on PATH.
  CARGO_ZIGBUILD_ZIG_PATH="$(python3 -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')"
  export CARGO_ZIGBUILD_ZIG_PATH
}

ensure_rust_targets() {
  local installed missing=()
  installed="$(rustup target list --installed)"
  for t in "$@"; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
  if [ "${#missing[@]}" -gt 0 ]; then rustup target add "${missing[@]}"; fi
}

# napi-build insists on finding libnode.dll for windows-gnu and links -lnode. With dyn-symbols
# no Node-API symbol is resolved at link time, so an import library of node.exe that exports
# nothing satisfies the linker and leaves no import behind; libnode.dll only has to exist.
libnode_stub() {
  local dir="$out_root/.libnode-stub"
  if [ ! -f "$dir/libnode.a" ]; then
    mkdir -p "$dir" && printf 'LIBRARY node.exe\nEXPORTS\n' >"$dir/node.def" &&
      "$CARGO_ZIGBUILD_ZIG_PATH" dlltool -m i386:x86-64 -d "$dir/node.def" -l "$dir/libnode.a" &&
      : >"$dir/libnode.dll" || return 1
  fi
  realpath "$dir"
}

build_one() {
  local triple="$1" suffix zig_target lib stub env=()
  suffix="$(suffix_of "$triple")" || return 1
  zig_target="$triple"
  case "$triple" in
    *-linux-gnu | *-linux-gnueabihf) zig_target="$triple.$GLIBC_FLOOR" ;;
  esac
  case "$triple" in
    # arm64 Macs start at macOS 11; zig has no libSystem for an arm64 10.x deployment target.
    x86_64-apple-darwin) lib=libdgramx_node.dylib; env+=("MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-10.13}") ;;
    aarch64-apple-darwin) lib=libdgramx_node.dylib; env+=("MACOSX_DEPLOYMENT_TARGET=11.0") ;;
    *-windows-*)
      lib=dgramx_node.dll
      stub="$(libnode_stub)" || return 1
      env+=("LIBNODE_PATH=$stub") ;;
    *) lib=libdgramx_node.so ;;
  esac
  # RUSTFLAGS in the environment replaces .cargo/config.toml's target rustflags; keep musl's.
  if [[ "$triple" == *musl && -n "${RUSTFLAGS:-}" && "$RUSTFLAGS" != *crt-static* ]]; then
    env+=("RUSTFLAGS=$RUSTFLAGS -C target-feature=-crt-static")
  fi
  # Called as `build_one ... || ...`, where set -e does not apply: every step checks itself.
  rm -f "$out_root/$suffix/dgram.$suffix.node"
  env "${env[@]}" cargo zigbuild -p dgramx-node --release --locked --target "$zig_target" \
    --target-dir "$target_dir" || return 1
  mkdir -p "$out_root/$suffix" || return 1
  cp "$target_dir/$triple/release/$lib" "$out_root/$suffix/dgram.$suffix.node" || return 1
  echo "build-target: $triple -> $out_root/$suffix/dgram.$suffix.node"
}

if [ "$#" -eq 0 ]; then
  echo "usage: bash scripts/build-target.sh <rust-triple> [...] | --install-only" >&2
  exit 2
fi
if [ "$1" = "--suffix" ]; then
  suffix_of "$2"
  exit
fi
install_tools
if [ "$1" = "--install-only" ]; then
  shift
  ensure_rust_targets "$@"
  exit 0
fi
for t in "$@"; do suffix_of "$t" >/dev/null; done
ensure_rust_targets "$@"
status=0
for t in "$@"; do
  build_one "$t" || { echo "build-target: $t FAILED" >&2; status=1; }
done
exit "$status"
