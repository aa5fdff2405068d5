# LXD in the lab (the `lxc` client talks to it). Sourced by setup.sh.

LXD_SOCKET=/var/lib/lxd/unix.socket

lxd_up() { lxc query /1.0; }

start_lxd() {
  apt_install lxd
  if ! lxd_up >/dev/null 2>&1; then
    start_daemon lxd lxd --group root
    wait_for_daemon lxd 60 lxd_up
  fi
  # `lxd init --auto` wants a bridge; this machine cannot make one. A dir pool and a root disk suffice.
  if ! lxc storage show default >/dev/null 2>&1; then
    log "lxd: initialising"
    lxd init --preseed <<'YAML'
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root:
      path: /
      pool: default
      type: disk
YAML
  fi
}

# lxd_image ALIAS TARBALL: an LXD image made from a lab tree.
lxd_image() {
  local alias=$1 tarball=$2
  lxc image info "$alias" >/dev/null 2>&1 && return 0
  log "lxd: importing $alias"
  local tmp
  tmp=$(mktemp -d)
  printf 'architecture: x86_64\ncreation_date: %s\nproperties:\n  description: scope-engine lab busybox\n' \
    "$(date +%s)" >"$tmp/metadata.yaml"
  tar -C "$tmp" -czf "$tmp/meta.tar.gz" metadata.yaml
  gzip -c "$tarball" >"$tmp/rootfs.tar.gz"
  lxc image import "$tmp/meta.tar.gz" "$tmp/rootfs.tar.gz" --alias "$alias" >/dev/null
  rm -rf "$tmp"
}

# The container's init is `sleep`; /dev/shm is mounted for it as an init would (see lxc.sh).
LXD_RAW_LXC="lxc.init.cmd = /bin/sleep 1000000
lxc.mount.entry = tmpfs dev/shm tmpfs rw,nosuid,nodev,mode=1777,create=dir 0 0"

lxd_ensure() {
  local name=$1 state=$2 image=${3:-$LAB_IMAGE}
  if ! lxc info "$name" >/dev/null 2>&1; then
    log "lxd: creating $name"
    lxc init "$image" "$name" -c raw.lxc="$LXD_RAW_LXC" >/dev/null
  elif [ "$(lxc config get "$name" raw.lxc)" != "$LXD_RAW_LXC" ]; then
    log "lxd: updating $name"
    lxc stop -f "$name" >/dev/null 2>&1 || true
    lxc config set "$name" raw.lxc "$LXD_RAW_LXC"
  fi
  if [ "$state" = running ] && [ "$(lxc list "^$name\$" -c s --format csv)" != RUNNING ]; then
    log "lxd: starting $name"
    # A daemon just started brings back what ran before it stopped, on its own: it may win the race.
    lxc start "$name" 2>/dev/null || wait_for "lxd container $name" 30 lxd_running "$name"
  fi
}

lxd_running() { [ "$(lxc list "^$1\$" -c s --format csv)" = RUNNING ]; }

# lxd_limits NAME: a running container with 32 MiB of memory and 16 processes (LXD has no read-only root).
lxd_limits() {
  local name=$1
  lxd_ensure "$name" stopped
  if [ "$(lxc config get "$name" limits.processes)" != 16 ]; then
    lxc stop -f "$name" >/dev/null 2>&1 || true
    lxc config set "$name" limits.memory 32MB
    lxc config set "$name" limits.processes 16
  fi
  lxd_ensure "$name" running
}

lxd_fixtures() {
  lxd_image "$LAB_IMAGE" "$LAB_DIR/busybox.tar"
  lxd_image "$LAB_NOSHELL_IMAGE" "$LAB_DIR/noshell.tar"
  lxd_ensure lab-lxd running
  lxd_ensure lab-lxd-noshell running "$LAB_NOSHELL_IMAGE"
  lxd_ensure lab-lxd-stopped stopped
  lxd_limits lab-lxd-limited
}
