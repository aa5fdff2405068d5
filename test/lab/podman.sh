# The podman part of the lab, with its API service. Sourced by setup.sh.

PODMAN_SOCKET=/run/podman/podman.sock

podman_configure() {
  # No CAP_SYS_RESOURCE here (rlimits), no systemd (cgroupfs, file events), no bridge (netns none).
  mkdir -p /etc/containers
  cat >/etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
}

podman_up() { curl -sf --unix-socket "$PODMAN_SOCKET" http://d/_ping; }

start_podman() {
  apt_install podman uidmap curl runsc
  podman_configure
  if podman_up >/dev/null 2>&1; then return 0; fi
  mkdir -p /run/podman
  rm -f "$PODMAN_SOCKET"
  start_daemon podman-service podman system service --time=0 "unix://$PODMAN_SOCKET"
  wait_for_daemon podman-service 60 podman_up
}

podman_ensure_running() { cli_ensure_running podman "$@"; }

podman_fixtures() {
  if ! podman image exists "$LAB_IMAGE"; then
    log "podman: importing $LAB_IMAGE"
    podman import -q "$LAB_DIR/busybox.tar" "$LAB_IMAGE" >/dev/null
  fi
  if ! podman image exists "$LAB_NOSHELL_IMAGE"; then
    podman import -q "$LAB_DIR/noshell.tar" "$LAB_NOSHELL_IMAGE" >/dev/null
  fi
  podman_ensure_running lab-pod "$LAB_IMAGE" /bin/sleep 1000000
  podman_ensure_running lab-pod-noshell "$LAB_NOSHELL_IMAGE" /bin/sleep 1000000
  podman_ensure_running lab-pod-limited $LAB_LIMITS "$LAB_IMAGE" /bin/sleep 1000000
  # A user-namespaced container: its root is host uid 100000.
  podman_ensure_running lab-pod-userns --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$LAB_IMAGE" /bin/sleep 1000000
  podman_gvisor
  if [ "$(podman inspect -f '{{.State.Status}}' lab-pod-stopped 2>/dev/null)" != exited ]; then
    podman rm -f lab-pod-stopped >/dev/null 2>&1 || true
    podman run --name lab-pod-stopped --label "$LAB_LABEL" "$LAB_IMAGE" /bin/true >/dev/null
  fi
}

# A gVisor container: podman with Debian's runsc as its OCI runtime. runsc refuses to run with a
# network in the host's network namespace and cannot manage cgroups here, hence the wrapper's flags.
podman_gvisor() {
  local wrapper="$LAB_DIR/runsc-wrapper"
  printf '#!/bin/sh\nexec /usr/bin/runsc --network=none --ignore-cgroups "$@"\n' >"$wrapper.tmp"
  chmod 755 "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
  # Its host PID is runsc's sandbox, not the sleep (that runs in gVisor's kernel).
  local pid
  pid=$(podman inspect -f '{{if .State.Running}}{{.State.Pid}}{{end}}' lab-gvisor 2>/dev/null) || true
  if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/bin/runsc ]; then return 0; fi
  podman rm -f lab-gvisor >/dev/null 2>&1 || true
  log "podman: starting lab-gvisor (runsc)"
  podman run -d --name lab-gvisor --label "$LAB_LABEL" --runtime "$wrapper" --network none "$LAB_IMAGE" \
    /bin/sleep 1000000 >/dev/null
}
