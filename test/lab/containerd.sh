# The containerd part of the lab (for the ctr and nerdctl adapters). Sourced by setup.sh.

CTR_IMAGE=docker.io/library/$LAB_IMAGE:latest
CTR_NOSHELL_IMAGE=docker.io/library/$LAB_NOSHELL_IMAGE:latest

containerd_up() { ctr version; }

# Also called before dockerd starts: a stale socket here makes dockerd dial it instead of starting its own.
clear_stale_containerd() { clear_stale containerd_up /run/containerd/containerd.sock \
  /run/containerd/containerd.sock.ttrpc; }

start_containerd() {
  apt_install containerd runc
  if containerd_up >/dev/null 2>&1; then return 0; fi
  clear_stale_containerd
  start_daemon containerd containerd
  wait_for_daemon containerd 60 containerd_up
}

# ctr_ensure_running IMAGE ID ARGS...: a container ID with a running task, made by `ctr run -d ARGS... IMAGE ID`.
ctr_ensure_running() {
  local image=$1 id=$2; shift 2
  if ctr -n default task ls -q 2>/dev/null | grep -qx "$id" &&
     [ "$(ctr -n default task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $3}')" = RUNNING ]; then
    return 0
  fi
  ctr -n default task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  ctr -n default task rm -f "$id" >/dev/null 2>&1 || true
  ctr -n default container rm "$id" >/dev/null 2>&1 || true
  log "containerd: starting $id"
  ctr -n default run -d --label "$LAB_LABEL" "$@" "$image" "$id" /bin/sleep 1000000 >/dev/null
}

containerd_fixtures() {
  local image
  for image in "$LAB_IMAGE" "$LAB_NOSHELL_IMAGE"; do
    if ! ctr -n default images ls -q | grep -qx "docker.io/library/$image:latest"; then
      log "containerd: importing $image"
      start_docker
      docker_fixtures
      docker save "$image" -o "$LAB_DIR/$image.image.tar"
      ctr -n default images import "$LAB_DIR/$image.image.tar" >/dev/null
    fi
  done
  ctr_ensure_running "$CTR_IMAGE" lab-ctr
  ctr_ensure_running "$CTR_NOSHELL_IMAGE" lab-ctr-noshell
  # ctr has no pids limit: a read-only root and 32 MiB of memory.
  ctr_ensure_running "$CTR_IMAGE" lab-ctr-limited --read-only --memory-limit 33554432
  # What nerdctl makes: a 64-hex ID and the name in the nerdctl/name label (nerdctl is not packaged here).
  local nerd_id
  local name
  for name in lab-nerd lab-nerd-noshell; do
    nerd_id=$(ctr -n default containers ls -q "labels.\"nerdctl/name\"==$name" 2>/dev/null | head -n 1)
    [ -n "$nerd_id" ] || nerd_id=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
    image=$CTR_IMAGE
    [ "$name" = lab-nerd ] || image=$CTR_NOSHELL_IMAGE
    ctr_ensure_running "$image" "$nerd_id" --label "nerdctl/name=$name" --label nerdctl/namespace=default
  done
  # Containers with no task: resolving them must give E_NOT_RUNNING.
  if ! ctr -n default containers ls -q | grep -qx lab-ctr-stopped; then
    ctr -n default containers create --label "$LAB_LABEL" "$CTR_IMAGE" lab-ctr-stopped /bin/true >/dev/null
  fi
  if [ -z "$(ctr -n default containers ls -q 'labels."nerdctl/name"==lab-nerd-stopped')" ]; then
    ctr -n default containers create --label "$LAB_LABEL" --label nerdctl/name=lab-nerd-stopped \
      --label nerdctl/namespace=default \
      "$CTR_IMAGE" "$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)" /bin/true >/dev/null
  fi
}
