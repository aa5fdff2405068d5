# Classic LXC (liblxc's lxc-* tools) in the lab. Sourced by setup.sh.

LXC_PATH=/var/lib/lxc
# What an init (systemd, openrc) would mount and the lab's `sleep` does not: AppScope's dconf directory.
LXC_SHM_ENTRY='lxc.mount.entry = tmpfs dev/shm tmpfs rw,nosuid,nodev,mode=1777,create=dir 0 0'

start_lxc() {
  apt_install lxc
}

# lxc_define NAME [TARBALL]: a container whose rootfs is a lab tree (busybox by default), with no network.
lxc_define() {
  local name=$1 dir=$LXC_PATH/$1 tarball=${2:-$LAB_DIR/busybox.tar}
  if [ -f "$dir/config" ]; then
    grep -qF "$LXC_SHM_ENTRY" "$dir/config" && return 0
    # Made by an older lab without /dev/shm: add it, and restart the container if it runs.
    echo "$LXC_SHM_ENTRY" >>"$dir/config"
    lxc-stop -n "$name" -k >/dev/null 2>&1 || true
    return 0
  fi
  log "lxc: defining $name"
  mkdir -p "$dir/rootfs"
  tar -C "$dir/rootfs" -xf "$tarball"
  lxc_config "$name" "$dir" >"$dir/config"
}

# lxc_config NAME DIR: the lab's container config (rootfs under DIR, no network, `sleep` as init).
lxc_config() {
  cat <<CONF
lxc.uts.name = $1
lxc.rootfs.path = dir:$2/rootfs
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:ro
lxc.init.cmd = /bin/sleep 1000000
lxc.apparmor.profile = unconfined
$LXC_SHM_ENTRY
CONF
}

# lxc_limit NAME: 32 MiB of memory, 16 processes and a read-only root, from the next start on.
lxc_limit() {
  local config=$LXC_PATH/$1/config
  grep -q '^lxc.cgroup.pids.max' "$config" && return 0
  printf 'lxc.cgroup.memory.limit_in_bytes = 33554432\nlxc.cgroup.pids.max = 16\nlxc.rootfs.options = ro\n' >>"$config"
  lxc-stop -n "$1" -k >/dev/null 2>&1 || true
}

lxc_ensure_running() {
  local name=$1
  if [ "$(lxc-info -n "$name" -s -H 2>/dev/null)" != RUNNING ]; then
    log "lxc: starting $name"
    lxc-start -n "$name" -d
    wait_for "lxc container $name" 30 lxc_has_pid "$name"
  fi
}

lxc_has_pid() { [ -n "$(lxc-info -n "$1" -p -H 2>/dev/null)" ]; }

lxc_fixtures() {
  lxc_define lab-lxc
  lxc_ensure_running lab-lxc
  lxc_define lab-lxc-noshell "$LAB_DIR/noshell.tar"
  lxc_ensure_running lab-lxc-noshell
  lxc_define lab-lxc-limited
  lxc_limit lab-lxc-limited
  lxc_ensure_running lab-lxc-limited
  # Defined, never started: resolving it must give E_NOT_RUNNING.
  lxc_define lab-lxc-stopped
}
