# Importing the root file system tar into docker and podman as IMAGE:VERSION and IMAGE:latest, and
# checking that what was imported runs. Sourced by build.sh, which sets IMAGE and VERSION.

# The label that says which tar (and which image settings) an image was imported from: a build whose
# inputs did not change finds it and imports nothing, so running the build again changes nothing.
IMAGE_SOURCE_LABEL=io.scope-engine.image.source

# image_runtime_ready RUNTIME: whether RUNTIME's command is here and can store images; else why not.
image_runtime_ready() {
  if ! command -v "$1" >/dev/null; then
    echo "no $1 command here"
    return 1
  fi
  # docker needs its daemon; podman works on its local storage without one, which podman info checks.
  if ! "$1" info >/dev/null 2>&1; then
    echo "$1 info fails$([ "$1" = docker ] && echo ': is dockerd running?')"
    return 1
  fi
}

# image_changes SOURCE: the image's settings, as --change arguments, one a line. One LABEL per change:
# podman reads "LABEL a=1 b=2" as one label a with the value "1 b=2".
image_changes() {
  cat <<EOF
ENTRYPOINT ["/usr/bin/node", "/opt/scope-engine/dist/cli/main.js"]
CMD ["--help"]
ENV PATH=/usr/local/bin:/usr/bin:/bin
LABEL org.opencontainers.image.title=scope-engine
LABEL org.opencontainers.image.version=$VERSION
LABEL org.opencontainers.image.licenses=Apache-2.0
LABEL $IMAGE_SOURCE_LABEL=$1
EOF
}

# image_id RUNTIME REF: REF's image ID, or nothing when RUNTIME has no such image.
image_id() {
  "$1" image inspect --format '{{.Id}}' "$2" 2>/dev/null || true
}

# image_import RUNTIME TAR SOURCE: IMAGE:VERSION and IMAGE:latest from TAR, unless IMAGE:VERSION already
# is what TAR and these settings make (SOURCE). The image they named before, now nameless, is removed:
# each build would otherwise leave a <none> image behind (unless a container still uses it).
image_import() {
  local rt=$1 tar=$2 source=$3 ref=$IMAGE:$VERSION old new had quiet=()
  local changes=()
  old=$(image_id "$rt" "$ref")
  had=$("$rt" image inspect --format "{{index .Config.Labels \"$IMAGE_SOURCE_LABEL\"}}" "$ref" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$had" = "$source" ]; then
    log "$rt: $ref is already this build"
  else
    while IFS= read -r line; do changes+=(--change "$line"); done < <(image_changes "$source")
    # podman prints its copy's progress on stderr; docker prints only the new ID, on stdout.
    [ "$rt" = podman ] && quiet=(--quiet)
    log "$rt: importing $ref"
    "$rt" import "${quiet[@]}" "${changes[@]}" - "$ref" <"$tar" >/dev/null
  fi
  "$rt" tag "$ref" "$IMAGE:latest"
  new=$(image_id "$rt" "$ref")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    "$rt" rmi "$old" >/dev/null 2>&1 || log "$rt: kept the previous image $old (a container or another name uses it)"
  fi
}

# image_check RUNTIME: the imported image starts and says the package's version. A container of our
# own name, removed when it ends; no network: it needs none.
image_check() {
  local rt=$1 said
  said=$("$rt" run --rm --name "scope-image-check-$$" --network none "$IMAGE:$VERSION" --version) ||
    die "$rt: $IMAGE:$VERSION does not start (above: why)"
  [ "$said" = "$VERSION" ] || die "$rt: $IMAGE:$VERSION --version says \"$said\", not $VERSION"
}

# image_size RUNTIME: the image's size as RUNTIME counts it, in MB.
image_size() {
  local bytes
  bytes=$("$1" image inspect --format '{{.Size}}' "$IMAGE:$VERSION")
  echo "$((bytes / 1000000)) MB ($bytes bytes)"
}
