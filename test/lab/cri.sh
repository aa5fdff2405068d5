# The CRI part of the lab (for the cri adapter): Kubernetes pods on the lab's containerd, made
# through CRI as kubelet makes them, by cri-pods.js. Sourced by setup.sh after containerd.sh.
# No registry is reachable and kubelet is not packaged: the images are built here, and the pods
# made by a Node script, which needs the npm dependencies (@grpc/grpc-js): before `npm ci` has run,
# the images are ready and the pods are made when the lab runs again (.ci/run and quickstart.sh do).

CRI_NAMESPACE=k8s.io
CRI_IMAGE=scope-lab.local/busybox:1
CRI_NOSHELL_IMAGE=scope-lab.local/noshell:1

# CRI pods need containerd with the lab's config: LAB_RUNTIMES=cri alone starts it too.
start_cri() {
  start_containerd
  containerd_configured || die "CRI pods need containerd started with $CONTAINERD_CONFIG" \
    "(restrict_oom_score_adj, the lab's sandbox image); the one at /run/containerd/containerd.sock is not the lab's"
}

# oci_blob DIR JSON: stores JSON as a blob of the image layout DIR; prints its digest and size.
oci_blob() {
  local digest
  digest=$(printf '%s' "$2" | sha256sum | cut -d' ' -f1)
  printf '%s' "$2" >"$1/blobs/sha256/$digest"
  echo "sha256:$digest ${#2}"
}

# cri_image NAME ROOTFS_TAR [ENTRYPOINT_JSON]: an image of one layer (a lab root filesystem tar) in
# containerd namespace k8s.io, from an OCI image layout tar made with tar and sha256sum alone: no
# docker, which LAB_RUNTIMES=cri does not start. The same inputs give the same digests, so NAME is
# imported only when it is missing or its manifest is not the one built now (its tar was rebuilt).
cri_image() {
  local name=$1 rootfs=$2 entrypoint=${3:-}
  local dir=$LAB_DIR/oci-layout layer settings config manifest
  local layer_type=application/vnd.oci.image.layer.v1.tar
  local config_type=application/vnd.oci.image.config.v1+json
  local manifest_type=application/vnd.oci.image.manifest.v1+json
  rm -rf "$dir"
  mkdir -p "$dir/blobs/sha256"
  layer=$(sha256sum "$rootfs" | cut -d' ' -f1)
  settings='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
  [ -z "$entrypoint" ] || settings+=",\"Entrypoint\":$entrypoint"
  config=($(oci_blob "$dir" "$(printf '{"architecture":"%s","os":"linux","config":{%s},%s}' \
    "$(dpkg --print-architecture)" "$settings" "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer\"]}")"))
  manifest=($(oci_blob "$dir" "$(printf '{"schemaVersion":2,"mediaType":"%s",%s,%s}' "$manifest_type" \
    "$(printf '"config":{"mediaType":"%s","digest":"%s","size":%s}' "$config_type" "${config[@]}")" \
    "$(printf '"layers":[{"mediaType":"%s","digest":"sha256:%s","size":%s}]' "$layer_type" "$layer" \
      "$(stat -c %s "$rootfs")")")"))
  # ctr's listing: REF TYPE DIGEST SIZE ...
  if [ "$(ctr -n "$CRI_NAMESPACE" images ls "name==$name" | awk 'NR == 2 {print $3}')" = "${manifest[0]}" ]; then
    rm -rf "$dir"
    return 0
  fi
  log "cri: importing $name into containerd namespace $CRI_NAMESPACE"
  ln "$rootfs" "$dir/blobs/sha256/$layer" 2>/dev/null || cp "$rootfs" "$dir/blobs/sha256/$layer"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,%s}]}' "$manifest_type" \
    "${manifest[@]}" "\"annotations\":{\"io.containerd.image.name\":\"$name\"}" >"$dir/index.json"
  tar -C "$dir" -cf "$dir.tar" oci-layout index.json blobs
  ctr -n "$CRI_NAMESPACE" images import "$dir.tar" >/dev/null
  rm -rf "$dir" "$dir.tar"
}

cri_fixtures() {
  local repo
  repo=$(cd "$here/../.." && pwd)
  # The sandbox (pause) image: anything whose entrypoint runs for ever.
  cri_image "$CRI_PAUSE_IMAGE" "$LAB_DIR/busybox.tar" '["/bin/sleep","2147483647"]'
  cri_image "$CRI_IMAGE" "$LAB_DIR/busybox.tar" ''
  cri_image "$CRI_NOSHELL_IMAGE" "$LAB_DIR/noshell.tar" ''
  if ! command -v node >/dev/null || [ ! -d "$repo/node_modules/@grpc/grpc-js" ] \
    || [ ! -d "$repo/node_modules/@grpc/proto-loader" ]; then
    log "cri: no node or no node_modules/@grpc here yet: the pods are made when the lab runs again after npm ci"
    return 0
  fi
  LAB_LOG_DIR=$LAB_LOG_DIR CRI_IMAGE=$CRI_IMAGE CRI_NOSHELL_IMAGE=$CRI_NOSHELL_IMAGE \
    node "$here/cri-pods.js" || die "cri: the pods could not be made (above: why)"
}
