# The node agent image (deploy/image/build.sh) in the lab's docker and podman, for the image's
# integration test. Sourced by setup.sh. Not a runtime and not in the default list: it is built from the
# checkout, so it needs the npm dependencies, and the first lab run comes before npm ci. After npm ci,
# `LAB_RUNTIMES="cri image" bash test/lab/setup.sh` builds it (.ci/run and quickstart.sh do).

# The image goes into both runtimes: both must be up (idempotent when they are).
start_image() {
  start_docker
  start_podman
}

image_fixtures() {
  local repo
  repo=$(cd "$here/../.." && pwd)
  if ! command -v node >/dev/null || ! command -v npm >/dev/null || [ ! -d "$repo/node_modules" ]; then
    die "image: it is built from the checkout with its npm dependencies: run npm ci first," \
      "then LAB_RUNTIMES=image bash test/lab/setup.sh"
  fi
  log "image: building scope-engine's node agent image (npm run image)"
  # In the checkout, as npm wants; the build imports nothing when its inputs did not change.
  (cd "$repo" && npm run --silent image) || die "image: npm run image failed (above: why)"
}
