# The docker part of the lab. Sourced by setup.sh after lib.sh.

docker_up() { docker version --format '{{.Server.Version}}'; }

start_docker() {
  apt_install docker.io
  if docker_up >/dev/null 2>&1; then return 0; fi
  clear_stale_containerd
  clear_stale_pidfile /var/run/docker.pid dockerd
  clear_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
  # No CAP_SYS_RESOURCE here: containers must not ask for rlimits above ours.
  # No bridge network can be made here, so containers run with no network at all.
  start_daemon dockerd dockerd --iptables=false --ip6tables=false --bridge=none \
    --default-ulimit nofile=1024:1024 --default-ulimit nproc=1024:1024
  wait_for_daemon dockerd 60 docker_up
}

# cli_ensure_running TOOL NAME ARGS...: a running container NAME made with `TOOL run -d ARGS...`
# (docker and podman take the same words).
cli_ensure_running() {
  local tool=$1 name=$2; shift 2
  local pid
  pid=$("$tool" inspect -f '{{if .State.Running}}{{.State.Pid}}{{end}}' "$name" 2>/dev/null) || true
  if lab_sleep_alive "$pid"; then return 0; fi
  "$tool" rm -f "$name" >/dev/null 2>&1 || true
  log "$tool: starting $name"
  "$tool" run -d --name "$name" --label "$LAB_LABEL" "$@" >/dev/null
}

docker_ensure_running() { cli_ensure_running docker "$@"; }

docker_fixtures() {
  if ! docker image inspect "$LAB_IMAGE" >/dev/null 2>&1; then
    log "docker: importing $LAB_IMAGE"
    docker import "$LAB_DIR/busybox.tar" "$LAB_IMAGE" >/dev/null
  fi
  if ! docker image inspect "$LAB_NOSHELL_IMAGE" >/dev/null 2>&1; then
    docker import "$LAB_DIR/noshell.tar" "$LAB_NOSHELL_IMAGE" >/dev/null
  fi
  docker_ensure_running lab-noshell --network none "$LAB_NOSHELL_IMAGE" /bin/sleep 1000000
  docker_ensure_running lab-web --network none "$LAB_IMAGE" /bin/sleep 1000000
  docker_ensure_running lab-app --network none --user 1000:1000 "$LAB_IMAGE" /bin/sleep 1000000
  # The hostile-container suite's limits: a read-only root, 32 MiB of memory, 16 processes.
  docker_ensure_running lab-web-limited --network none $LAB_LIMITS "$LAB_IMAGE" /bin/sleep 1000000
  # The doctor's cases (with lab-app, --user 1000): each changes what a payload may ptrace or read.
  docker_ensure_running lab-ptrace --network none --cap-add SYS_PTRACE "$LAB_IMAGE" /bin/sleep 1000000
  docker_ensure_running lab-unconfined --network none --security-opt seccomp=unconfined "$LAB_IMAGE" /bin/sleep 1000000
  docker_ensure_running lab-nnp --network none --security-opt no-new-privileges "$LAB_IMAGE" /bin/sleep 1000000
  docker_ensure_running lab-nocaps --network none --cap-drop ALL "$LAB_IMAGE" /bin/sleep 1000000
  # A container that has exited: resolving it must give E_NOT_RUNNING.
  if [ "$(docker inspect -f '{{.State.Status}}' lab-stopped 2>/dev/null)" != exited ]; then
    docker rm -f lab-stopped >/dev/null 2>&1 || true
    docker run --name lab-stopped --label "$LAB_LABEL" --network none "$LAB_IMAGE" /bin/true >/dev/null
  fi
}
