# The node agent image's root file system, assembled from what this host already has: its node, the
# shared libraries exactly as its dynamic loader finds them, and the built package with its production
# dependencies. Sourced by build.sh, which sets REPO, ROOTFS and APP (the package's directory in it).
# Nothing is downloaded and no package manager runs: no registry is reachable on the machines this must
# build on, and a distribution's base image would bring a shell, apt and a libc we would not use.

# Top-level directories that are links on the host (Debian 12 merges /lib, /lib64, /bin and /sbin into
# /usr): the same links in the image, so that the paths compiled into binaries (/lib64/ld-linux-*.so.2)
# and the loader's default directories resolve there as they do here.
rootfs_usr_links() {
  local d
  for d in bin sbin lib lib32 lib64 libx32; do
    [ -L "/$d" ] || continue
    ln -sfn "$(readlink "/$d")" "$ROOTFS/$d"
    mkdir -p "$ROOTFS/$(readlink -f "/$d")"
  done
  return 0
}

# rootfs_put [TAR_OPTION...] PATH...: the repository's PATHs (relative) at the same place under APP.
rootfs_put() {
  tar -C "$REPO" -cf - "$@" | tar -C "$APP" -xpf -
}

# rootfs_copy PATH: PATH's file at its real path in the image, plus PATH itself as a relative link to
# it when PATH is one (sonames are links to versioned files: libstdc++.so.6 -> libstdc++.so.6.0.30).
rootfs_copy() {
  local real link
  real=$(readlink -f "$1")
  [ -f "$real" ] || die "$1: no such file"
  mkdir -p "$ROOTFS$(dirname "$real")"
  cp -p "$real" "$ROOTFS$real"
  # Where PATH is as a name, once its directory's links (/lib -> usr/lib) are resolved.
  link="$(readlink -f "$(dirname "$1")")/$(basename "$1")"
  if [ "$link" != "$real" ] && [ ! -e "$ROOTFS$link" ]; then
    mkdir -p "$ROOTFS$(dirname "$link")"
    ln -sr "$ROOTFS$real" "$ROOTFS$link"
  fi
}

# rootfs_libs FILE...: every shared library the FILEs need, the dynamic loader included, as ldd finds
# them on this host. A static file has none (ldd says "not a dynamic executable" and fails).
rootfs_libs() {
  local f lib
  for f in "$@"; do
    ldd "$f" >/dev/null 2>&1 || continue
    # "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
    # linux-vdso has no file. A library ldd cannot find ("=> not found") fails the build here.
    if ldd "$f" | grep -q 'not found'; then die "$f needs a library this host lacks: $(ldd "$f" | grep 'not found')"; fi
    for lib in $(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
      rootfs_copy "$lib"
    done
  done
}

# Node at /usr/bin/node, whatever the host calls it (nvm, /usr/local/bin, a link). Its symbol table is
# stripped when strip is here (about 12 MB of node's 95): nothing reads it at run time; the dynamic
# symbols that native addons link against (napi_*) are another table, which strip keeps.
rootfs_node() {
  local node
  node=$(readlink -f "$(command -v node)")
  mkdir -p "$ROOTFS/usr/bin"
  if command -v strip >/dev/null; then
    strip --strip-all -o "$ROOTFS/usr/bin/node" "$node"
  else
    cp -p "$node" "$ROOTFS/usr/bin/node"
  fi
  rootfs_libs "$node"
}

# The package as it runs: compiled JavaScript without the tests, benchmarks, declarations and source
# maps; the native addon and the helpers native/index.ts looks for in native/build/Release (not the
# objects they were built from); the built-in payload's manifest, whose scope-probe is that directory's;
# the plugins files and the .proto files and schemas read at run time (package.json's "files", without
# the sources there only for rebuilding the addon).
rootfs_package() {
  local f
  mkdir -p "$APP/native/build/Release"
  cp -p "$REPO/package.json" "$REPO/plugins.json" "$APP/"
  rootfs_put --exclude=dist/test --exclude=dist/bench --exclude='*.d.ts' --exclude='*.map' dist
  for f in scope_native.node scope-exec scope-fs scope-plugin-launch scope-probe scope-trace-probe; do
    cp -p "$REPO/native/build/Release/$f" "$APP/native/build/Release/"
  done
  rootfs_put --exclude='*.ts' native/payload plugins adapters/*/proto core/payload/payload.schema.json \
    core/config/plugins.schema.json
  rootfs_libs "$APP/native/build/Release/"*
}

# The production dependencies exactly as npm ci installed them (npm ls --omit=dev: no mocha, no
# TypeScript), less what only a developer reads: type declarations, TypeScript sources, source maps and
# Markdown. Licences stay.
rootfs_node_modules() {
  local list dirs addon
  list=$(cd "$REPO" && npm ls --omit=dev --all --parseable) || die "npm ls: node_modules does not match" \
    "package-lock.json; run npm ci"
  # Nested ones (a/node_modules/b) come with their parent's directory.
  mapfile -t dirs < <(sed -n "s|^$REPO/||p" <<<"$list" | grep '^node_modules/' |
    grep -v '^node_modules/.*/node_modules/')
  rootfs_put "${dirs[@]}"
  find "$APP/node_modules" -type f \( -name '*.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
    -o \( -name '*.md' ! -iname 'licen?e*' ! -iname 'copying*' \) \) -delete
  # What building a dependency's addon left or used (objects, C and C++ sources and headers, makefiles):
  # the addons themselves (*.node) stay, built already for this node.
  find "$APP/node_modules" \( -type d \( -name obj.target -o -name .deps \) -o -type f \( -name '*.o' \
    -o -name '*.[ch]' -o -name '*.cc' -o -name '*.cpp' -o -name '*.hh' -o -name '*.hpp' -o -name '*.inl' \
    -o -name '*.gyp' -o -name '*.gypi' -o -name '*.mk' -o -name Makefile \) \) -prune -exec rm -rf {} +
  # Their libraries (ssh2's optional crypto binding links libstdc++), as for our own addon.
  while IFS= read -r -d '' addon; do rootfs_libs "$addon"; done < <(find "$APP/node_modules" -name '*.node' -print0)
}

# The rest of what a container needs: root's user and group (no shell: there is none), /tmp for the
# plugins' sockets, the mount points runtimes expect, /var/run as the host has it (adapters look for
# /var/run/docker.sock), `env` for the CLI's #!/usr/bin/env node line, and scope-engine on PATH.
rootfs_system() {
  mkdir -p "$ROOTFS"/{etc,proc,sys,dev,run,var,root,usr/local/bin}
  install -d -m 1777 "$ROOTFS/tmp"
  chmod 0700 "$ROOTFS/root"
  ln -sfn ../run "$ROOTFS/var/run"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$ROOTFS/etc/passwd"
  printf 'root:x:0:\n' >"$ROOTFS/etc/group"
  rootfs_copy /usr/bin/env
  rootfs_libs /usr/bin/env
  ln -sfn "${APP#"$ROOTFS"}/dist/cli/main.js" "$ROOTFS/usr/local/bin/scope-engine"
}

# Classic LXC: the lxc adapter asks lxc-ls and lxc-info (about 4 MB with liblxc and its libraries).
# Without them that adapter says classic LXC is unavailable and the rest works; LXD needs only its socket.
rootfs_lxc() {
  local tool
  for tool in lxc-ls lxc-info; do
    if ! command -v "$tool" >/dev/null; then
      log "no $tool on this host: the image's lxc adapter will not see classic LXC containers"
      return 0
    fi
  done
  for tool in lxc-ls lxc-info; do
    rootfs_copy "$(command -v "$tool")"
    rootfs_libs "$(command -v "$tool")"
  done
}
