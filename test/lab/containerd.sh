# The containerd part of the lab (for the ctr and nerdctl adapters; cri.sh makes its pods on the same
# daemon). Sourced by setup.sh.

CTR_IMAGE=docker.io/library/$LAB_IMAGE:latest
CTR_NOSHELL_IMAGE=docker.io/library/$LAB_NOSHELL_IMAGE:latest

# The lab's containerd runs with a config of its own: Debian's settings (/etc/containerd/config.toml),
# plus what CRI pods need on these machines (shared/reference/kubernetes-cri.md). Root lacks
# CAP_SYS_RESOURCE here, and containerd would give every pod sandbox an OOM score of -998, which
# fails every RunPodSandbox: restrict_oom_score_adj. No registry is reachable: the sandbox image is
# one cri.sh builds (it must be a valid image reference). containerd reads both only when it starts.
CONTAINERD_CONFIG=$LAB_DIR/containerd.toml
CRI_PAUSE_IMAGE=scope-lab.local/pause:1

containerd_up() { ctr version; }

# Also called before dockerd starts: a stale socket here makes dockerd dial it instead of starting its own.
clear_stale_containerd() { clear_stale containerd_up /run/containerd/containerd.sock \
  /run/containerd/containerd.sock.ttrpc; }

# Written only when it differs, so that its mtime tells containerd_configured when it last changed.
write_containerd_config() {
  local want
  want=$(cat <<CONF
version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    restrict_oom_score_adj = true
    sandbox_image = "$CRI_PAUSE_IMAGE"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
CONF
)
  [ "$(cat "$CONTAINERD_CONFIG" 2>/dev/null)" = "$want" ] && return 0
  mkdir -p "$LAB_DIR"
  printf '%s\n' "$want" >"$CONTAINERD_CONFIG.tmp"
  mv "$CONTAINERD_CONFIG.tmp" "$CONTAINERD_CONFIG"
}

# lab_containerd_pid: prints the PID in the lab's pid file if that process is still the containerd
# start_daemon started: alive (no zombie), leading its own session (setsid), with the lab's command
# line. A PID alone is not enough after a SIGKILL: it may be reused, even by dockerd's own containerd.
lab_containerd_pid() {
  local pid state session
  pid=$(cat "$LAB_LOG_DIR/containerd.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # /proc/PID/stat after "(comm) ": state, ppid, process group, session.
  read -r state _ _ session _ < <(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$session" = "$pid" ] || return 1
  case "$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" in
    "containerd " | "containerd --config $CONTAINERD_CONFIG ") echo "$pid" ;;
    *) return 1 ;;
  esac
}

# containerd_configured: the containerd that answers is the lab's, started with the lab's config
# after that config last changed.
containerd_configured() {
  local pid
  pid=$(lab_containerd_pid) || return 1
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "containerd --config $CONTAINERD_CONFIG " ] || return 1
  [ "$(stat -c %Y "$CONTAINERD_CONFIG")" -le "$(($(date +%s) - $(ps -o etimes= -p "$pid")))" ]
}

# stop_lab_containerd PID: ends the lab's containerd (SIGTERM, then SIGKILL after 30 s) and waits for
# its end. Its containers' tasks live on in their shims, and the next containerd takes them up again.
stop_lab_containerd() {
  local pid=$1 i state
  kill -TERM "$pid"
  for ((i = 1; i <= 200; i++)); do
    # Gone, or a zombie its parent has not reaped yet: either way it has let go of its socket.
    state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [ -z "$state" ] || [ "$state" = Z ] && return 0
    if [ "$i" = 150 ]; then
      log "containerd (PID $pid) still runs 30 s after SIGTERM: SIGKILL"
      kill -KILL "$pid"
    fi
    sleep 0.2
  done
  die "containerd (PID $pid) did not end 10 s after SIGKILL"
}

# start_containerd: the lab's containerd, with the lab's config. One already running without it is
# restarted when the lab started it; one the lab did not start is left alone (CRI pods then fail).
start_containerd() {
  local pid
  apt_install containerd runc
  write_containerd_config
  if containerd_up >/dev/null 2>&1; then
    containerd_configured && return 0
    if ! pid=$(lab_containerd_pid); then
      log "warning: the containerd at /run/containerd/containerd.sock was not started by the lab" \
        "($LAB_LOG_DIR/containerd.pid), so it runs without $CONTAINERD_CONFIG; left alone"
      return 0
    fi
    log "containerd: restarting PID $pid with $CONTAINERD_CONFIG (its tasks live on in their shims)"
    stop_lab_containerd "$pid"
  fi
  clear_stale_containerd
  start_daemon containerd containerd --config "$CONTAINERD_CONFIG"
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
