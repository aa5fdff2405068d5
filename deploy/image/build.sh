#!/usr/bin/env bash
# The node agent image: scope-engine:<version> and scope-engine:latest for docker and podman, built
# offline from this checkout and this host's node (no registry, no base image: no shell, no npm, no
# compiler inside). Run as `npm run image` after `npm ci`; it builds what is missing or older than its
# sources first. A runtime that is not here is skipped, saying so; with neither it fails. Run again with
# nothing changed, it imports nothing.
set -euo pipefail
umask 022
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO"
IMAGE=scope-engine
log() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }
. deploy/image/rootfs.sh
. deploy/image/import.sh

command -v node >/dev/null || die "no node here: the image is built around this host's node"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] ||
  die "node $(node --version) here; scope-engine needs 20 or later"
[ -d node_modules ] || die "no node_modules: run npm ci first"
VERSION=$(node -p 'require("./package.json").version')

runtimes=()
for rt in docker podman; do
  if why=$(image_runtime_ready "$rt"); then runtimes+=("$rt"); else log "skipping $rt: $why"; fi
done
[ ${#runtimes[@]} -gt 0 ] || die "neither docker nor podman can take the image here (above: why)"

# newer_than FILE PATH... [FIND_TEST...]: whether FILE is missing, or a file under the PATHs (that passes
# the tests) is newer than it.
newer_than() {
  [ -e "$1" ] || return 0
  [ -n "$(find "${@:2}" -newer "$1" -type f -print -quit)" ]
}

# The native core: npm ci builds it, unless install scripts were off. Then the TypeScript: a clean clone
# has no dist. A source newer than the build means the build is stale: the image must be this checkout.
for f in scope_native.node scope-exec scope-fs scope-plugin-launch scope-probe scope-trace-probe; do
  if newer_than "native/build/Release/$f" native/src native/binding.gyp; then
    log "building the native core (native/build/Release/$f is missing or older than native/src)"
    npm run --silent build:native >&2
    break
  fi
done
if newer_than dist/cli/main.js base native core adapters sdk testing cli plugins tsconfig.json \
  ! -path 'native/build/*' \( -name '*.ts' -o -name '*.json' \); then
  log "building the TypeScript (dist is missing or older than its sources)"
  npm run --silent build >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scope-image.XXXXXX")
# The temporary tree goes whatever happens, Ctrl-C included (bash runs EXIT traps on exit only).
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ROOTFS=$tmp/rootfs
APP=$ROOTFS/opt/scope-engine
mkdir -p "$APP"

log "assembling the root file system in $ROOTFS"
rootfs_usr_links
rootfs_node
rootfs_package
rootfs_node_modules
rootfs_system
rootfs_lxc
# What must never be in it, whatever a dependency brings: a package manager, a compiler, a shell.
found=$(find "$ROOTFS" \( -name npm -o -name npx -o -name node-gyp -o -name gcc -o -name cc -o -name 'g++' \
  -o -name tsc -o -name sh -o -name bash \) -print)
[ -z "$found" ] || die "the image would hold tools it must not: $found"

# The same files give the same tar (names sorted, one time stamp, root's), so an unchanged build
# is recognised by its digest.
tar -C "$ROOTFS" --sort=name --mtime="@${SOURCE_DATE_EPOCH:-0}" --owner=0 --group=0 --numeric-owner \
  -cf "$tmp/rootfs.tar" .
source=$( { sha256sum <"$tmp/rootfs.tar"; image_changes ''; } | sha256sum | cut -d' ' -f1)
log "root file system: $(($(stat -c %s "$tmp/rootfs.tar") / 1000000)) MB uncompressed, source $source"

for rt in "${runtimes[@]}"; do
  image_import "$rt" "$tmp/rootfs.tar" "$source"
  image_check "$rt"
done
for rt in "${runtimes[@]}"; do
  log "$rt: $IMAGE:$VERSION and $IMAGE:latest, $(image_size "$rt")"
done
