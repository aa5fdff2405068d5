# Rootless runtimes in the lab: podman, docker and LXC run by an ordinary user, se-rootless.
# Sourced by setup.sh, after lib.sh, docker.sh (cli_ensure_running) and lxc.sh (LXC_SHM_ENTRY).
#
# Everything runs as the user through as_rootless (HOME, XDG_RUNTIME_DIR=/run/user/UID), so root finds
# the user's sockets and pid files under /run/user/UID. Measured here (Debian 12, kernel 6.x, cgroup v1
# with no systemd, /dev/net/tun mode 0600); SUBUID is the user's first subordinate ID:
#
# podman (4.3, runc, vfs storage): works. $RL_PODMAN_SOCKET answers the Docker and libpod APIs.
#   - Container PIDs (inspect, either API) are host PIDs: NSpid "PID 1". All containers share the user
#     namespace of podman's pause process: uid_map and gid_map "0 UID 1" then "1 SUBUID 65536".
#   - Caps 0x800405fb (podman's default set, within that namespace), Seccomp 2, NoNewPrivs 0; the same
#     seen through `podman exec`. No cgroups of their own and no cgroup namespace: /proc/PID/cgroup,
#     inside too, is that of whoever ran the lab, and --memory/--pids-limit are ignored ("Resource
#     limits are not supported and ignored on cgroups V1 rootless systems").
#   - OCI spec: `podman inspect -f '{{.OCIConfigPath}}'`, ~/.local/share/containers/storage/
#     vfs-containers/ID/userdata/config.json, owned by the user; it has linux.seccomp and no user
#     namespace (the containers run in the pause process's).
#   - No network: slirp4netns cannot open /dev/net/tun, hence netns "none".
# docker (20.10 through dockerd-rootless.sh and rootlesskit 1.1): works with rootlesskit's "host"
#   network (slirp4netns cannot open /dev/net/tun) and no port driver; no bridge, no iptables.
#   - rootlesskit is not given --pidns: dockerd is in the host's PID namespace (and network namespace),
#     in a user and mount namespace of its own. The PIDs the API reports are host PIDs (NSpid "PID 1").
#   - Every container is in rootlesskit's user namespace: uid_map and gid_map "0 UID 1", "1 SUBUID 65536".
#     Caps 0xa80425fb (docker's default set), Seccomp 2, NoNewPrivs 0; the same through `docker exec`.
#   - "Cgroup Driver: none": no cgroups of their own (as podman's), and --memory/--pids-limit are
#     accepted, shown by inspect, and left out of the OCI spec.
#   - OCI spec: under the exec root, /run/user/UID/docker/containerd/daemon/io.containerd.runtime.v2.task/
#     moby/ID/config.json, the same path on the host and in dockerd's mount namespace (its /run is a
#     tmpfs whose /run/user is a symlink to the host's). It has linux.seccomp and no user namespace.
#     Only dockerd's own /run/docker and /run/containerd (shim sockets) are private: /proc/DOCKERD/root/run/...
# LXC (5.0, unprivileged): works; lxc-start, lxc-info and lxc-attach as the user; root needs
#   -P ~se-rootless/.local/share/lxc.
#   - lxc-info -p gives host PIDs (NSpid "PID 1"). Each container has a user namespace of its own:
#     uid_map and gid_map "0 SUBUID 65536" (the user itself is not mapped).
#   - Caps: the full set (0x1ffffffffff) within that namespace, Seccomp 0, NoNewPrivs 0 (the config of
#     lxc.sh: no lxc.cap.drop, no seccomp profile); the same through lxc-attach.
#   - cgroups: only the memory and pids cgroups the lab gives the user (see rootless_cgroups):
#     memory:/se-rootless/lxc.payload.NAME; inside, a cgroup namespace shows "/". lab-rl-lxc-limited's
#     32 MiB and 16 processes apply there. No OCI spec: the config is ~/.local/share/lxc/NAME/config.

RL_USER=se-rootless
# Lab images of the user's podman and docker (podman names them localhost/NAME).
RL_IMAGE=lab-busybox
RL_NOSHELL_IMAGE=lab-noshell
RL_DOCKERD_ROOTLESS=/usr/share/docker.io/contrib/dockerd-rootless.sh
# The podman settings of podman.sh, for the user (rootless podman reads /etc/containers/containers.conf
# too, but a machine that runs only the rootless lab has none). No CAP_SYS_RESOURCE here, so no rlimit
# above ours; netns "none" because slirp4netns, rootless podman's default network, cannot open
# /dev/net/tun (mode 0600 here); no systemd for cgroups or journald.
RL_CONTAINERS_CONF='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"'
# The cgroup v1 hierarchies handed to the user for its LXC containers' limits (see rootless_cgroups).
RL_CGROUPS="memory pids"

# rootless_user: the user with its subordinate IDs and runtime dir; sets the RL_* variables below.
rootless_user() {
  if ! id -u "$RL_USER" >/dev/null 2>&1; then
    log "adding user $RL_USER"
    useradd -m -s /bin/bash "$RL_USER"
  fi
  RL_UID=$(id -u "$RL_USER")
  RL_GID=$(id -g "$RL_USER")
  RL_HOME=$(getent passwd "$RL_USER" | cut -d: -f6)
  RL_RUNTIME=/run/user/$RL_UID
  # newuidmap and newgidmap (podman, rootlesskit, LXC) map only what these files grant the user.
  read -r RL_SUBUID RL_SUBUID_COUNT < <(subid_range /etc/subuid) || true
  read -r RL_SUBGID RL_SUBGID_COUNT < <(subid_range /etc/subgid) || true
  [ -n "$RL_SUBUID" ] && [ -n "$RL_SUBGID" ] || die "$RL_USER has no subordinate IDs in /etc/subuid or /etc/subgid"
  # No logind here makes /run/user/UID, and /run may be cleared at boot: made on every run.
  install -d -m 0755 /run/user
  install -d -o "$RL_UID" -g "$RL_GID" -m 0700 "$RL_RUNTIME"
  # setpriv execs (no PAM session, no parent left waiting), so a daemon started through it keeps the
  # PID start_daemon records. A clean environment, as a login would give.
  RL_AS=(setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups
    env -i -C "$RL_HOME" HOME="$RL_HOME" USER="$RL_USER" LOGNAME="$RL_USER" LANG=C.UTF-8
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin XDG_RUNTIME_DIR="$RL_RUNTIME")
  RL_PODMAN_SOCKET=$RL_RUNTIME/podman/podman.sock
  RL_DOCKER_SOCKET=$RL_RUNTIME/docker.sock
  RL_LXC_PATH=$RL_HOME/.local/share/lxc
}

# subid_range FILE: "START COUNT" of the user's first range in /etc/subuid or /etc/subgid.
subid_range() { awk -F: -v u="$RL_USER" '$1 == u { print $2, $3; exit }' "$1"; }

# as_rootless COMMAND...: runs COMMAND as the user, with its HOME and XDG_RUNTIME_DIR.
as_rootless() { "${RL_AS[@]}" "$@"; }

# The user's clients. podman's warning that / is not a shared mount is harmless here (nothing is
# mounted into the lab's containers) and would be printed on every call.
rl_podman() { as_rootless podman --log-level=error "$@"; }
rl_docker() { as_rootless env DOCKER_HOST="unix://$RL_DOCKER_SOCKET" docker "$@"; }

start_rootless() {
  apt_install podman docker.io lxc uidmap rootlesskit curl
  rootless_user
  rootless_start_podman
  rootless_start_docker
}

rootless_fixtures() {
  rootless_podman_fixtures
  rootless_docker_fixtures
  rootless_lxc_fixtures
}

# --- podman ---------------------------------------------------------------------------------------

rl_podman_up() { curl -sf --unix-socket "$RL_PODMAN_SOCKET" http://d/_ping; }

rootless_podman_configure() {
  local conf=$RL_HOME/.config/containers/containers.conf
  [ "$(cat "$conf" 2>/dev/null)" = "$RL_CONTAINERS_CONF" ] && return 0
  as_rootless mkdir -p "$RL_HOME/.config/containers"
  printf '%s\n' "$RL_CONTAINERS_CONF" | as_rootless tee "$conf" >/dev/null
}

rootless_start_podman() {
  rootless_podman_configure
  if rl_podman_up >/dev/null 2>&1; then return 0; fi
  # When the user's podman processes were SIGKILLed, the pause process that held podman's user
  # namespace is gone with the containers' conmons, and every podman command fails ("invalid internal
  # status, try resetting the pause process with podman system migrate") until the containers it still
  # believes running are reset: what `podman system migrate` does.
  rl_podman ps -q >/dev/null 2>&1 || rl_podman system migrate >/dev/null
  as_rootless mkdir -p "$RL_RUNTIME/podman"
  rm -f "$RL_PODMAN_SOCKET"
  start_daemon rootless-podman-service "${RL_AS[@]}" podman system service --time=0 "unix://$RL_PODMAN_SOCKET"
  wait_for_daemon rootless-podman-service 60 rl_podman_up
}

# rl_podman_image NAME TARBALL: localhost/NAME, imported from a lab tree. The tarball goes through
# stdin, so the user need not be able to read LAB_DIR.
rl_podman_image() {
  rl_podman image exists "localhost/$1" && return 0
  log "rootless podman: importing $1"
  rl_podman import -q - "localhost/$1" <"$2" >/dev/null
}

rootless_podman_fixtures() {
  rl_podman_image "$RL_IMAGE" "$LAB_DIR/busybox.tar"
  rl_podman_image "$RL_NOSHELL_IMAGE" "$LAB_DIR/noshell.tar"
  cli_ensure_running rl_podman lab-rl-pod "localhost/$RL_IMAGE" /bin/sleep 1000000
  cli_ensure_running rl_podman lab-rl-pod-noshell "localhost/$RL_NOSHELL_IMAGE" /bin/sleep 1000000
  # Read-only root only: rootless podman on cgroup v1 ignores --memory and --pids-limit ("Resource
  # limits are not supported and ignored on cgroups V1 rootless systems").
  cli_ensure_running rl_podman lab-rl-pod-limited --read-only "localhost/$RL_IMAGE" /bin/sleep 1000000
  # Created, never started: resolving it must give E_NOT_RUNNING.
  case $(rl_podman inspect -f '{{.State.Status}}' lab-rl-pod-stopped 2>/dev/null) in
    created | exited) ;;
    *)
      rl_podman rm -f lab-rl-pod-stopped >/dev/null 2>&1 || true
      rl_podman create --name lab-rl-pod-stopped --label "$LAB_LABEL" "localhost/$RL_IMAGE" /bin/true >/dev/null
      ;;
  esac
}

# --- docker ---------------------------------------------------------------------------------------

rl_docker_up() { rl_docker version --format '{{.Server.Version}}'; }

# The user's dockerd, through Debian's dockerd-rootless.sh: rootlesskit makes a user namespace (0 ->
# the user, 1.. -> its subordinate IDs) and a mount namespace where /etc and /run are copied up, and
# runs dockerd there. Not the root daemon: its socket, pid file and exec root are under /run/user/UID.
rootless_start_docker() {
  if rl_docker_up >/dev/null 2>&1; then return 0; fi
  # Left by a daemon killed with SIGKILL: dockerd would wait for the old PIDs, or dial a dead socket.
  clear_stale rl_docker_up "$RL_DOCKER_SOCKET"
  clear_stale_pidfile "$RL_RUNTIME/docker.pid" dockerd
  clear_stale_pidfile "$RL_RUNTIME/docker/containerd/containerd.pid" containerd
  # rootlesskit's network: "host" (no network namespace of its own), since slirp4netns cannot open
  # /dev/net/tun here; with it no port driver. Its state in the runtime dir, not a new /tmp dir each start.
  # dockerd: as docker.sh's (no bridge, no rlimits above ours); it makes no cgroups at all rootless
  # on cgroup v1 ("Cgroup Driver: none").
  start_daemon rootless-dockerd "${RL_AS[@]}" \
    DOCKERD_ROOTLESS_ROOTLESSKIT_NET=host DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER=none \
    DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS="--state-dir=$RL_RUNTIME/dockerd-rootlesskit" \
    "$RL_DOCKERD_ROOTLESS" --host "unix://$RL_DOCKER_SOCKET" --data-root "$RL_HOME/.local/share/docker" \
    --iptables=false --ip6tables=false --bridge=none \
    --default-ulimit nofile=1024:1024 --default-ulimit nproc=1024:1024
  wait_for_daemon rootless-dockerd 60 rl_docker_up
}

rl_docker_image() {
  rl_docker image inspect "$1" >/dev/null 2>&1 && return 0
  log "rootless docker: importing $1"
  rl_docker import - "$1" <"$2" >/dev/null
}

rootless_docker_fixtures() {
  rl_docker_image "$RL_IMAGE" "$LAB_DIR/busybox.tar"
  rl_docker_image "$RL_NOSHELL_IMAGE" "$LAB_DIR/noshell.tar"
  cli_ensure_running rl_docker lab-rl-docker --network none "$RL_IMAGE" /bin/sleep 1000000
  cli_ensure_running rl_docker lab-rl-docker-noshell --network none "$RL_NOSHELL_IMAGE" /bin/sleep 1000000
  # Read-only root only: with no cgroups (above) dockerd accepts --memory and --pids-limit, shows them
  # in inspect, and leaves them out of the OCI spec.
  cli_ensure_running rl_docker lab-rl-docker-limited --network none --read-only "$RL_IMAGE" /bin/sleep 1000000
  # Created, never started: resolving it must give E_NOT_RUNNING.
  if [ "$(rl_docker inspect -f '{{.State.Status}}' lab-rl-docker-stopped 2>/dev/null)" != created ]; then
    rl_docker rm -f lab-rl-docker-stopped >/dev/null 2>&1 || true
    rl_docker create --name lab-rl-docker-stopped --label "$LAB_LABEL" --network none "$RL_IMAGE" /bin/true >/dev/null
  fi
}

# --- LXC ------------------------------------------------------------------------------------------

# rootless_cgroups: a cgroup of the user's own in the memory and pids hierarchies, as pam_cgfs would
# give a login. Without one an unprivileged lxc-start skips every cgroup v1 hierarchy (none is
# writable by the user) and fails on any lxc.cgroup.* limit ("Failed to setup cgroup limits").
rootless_cgroups() {
  local c dir
  for c in $RL_CGROUPS; do
    dir=/sys/fs/cgroup/$c/$RL_USER
    [ "$(stat -c %u "$dir/cgroup.procs" 2>/dev/null)" = "$RL_UID" ] && continue
    mkdir -p "$dir"
    # The directory and its own files only: the containers' cgroups below belong to LXC.
    chown "$RL_UID:$RL_GID" "$dir"
    find "$dir" -maxdepth 1 -type f -exec chown "$RL_UID:$RL_GID" {} +
  done
}

# The containers' root is the user's first subordinate ID, which must be able to reach their rootfs:
# the home and ~/.local (0700 when podman makes it) need o+x.
rootless_lxc_path() {
  as_rootless mkdir -p "$RL_LXC_PATH"
  chmod o+x "$RL_HOME" "$RL_HOME/.local" "$RL_HOME/.local/share" "$RL_LXC_PATH"
}

# rl_lxc_config NAME [LINES]: the config of lxc.sh's containers, plus the user namespace.
rl_lxc_config() {
  lxc_config "$1" "$RL_LXC_PATH/$1"
  printf 'lxc.idmap = u 0 %s %s\nlxc.idmap = g 0 %s %s\n' "$RL_SUBUID" "$RL_SUBUID_COUNT" "$RL_SUBGID" \
    "$RL_SUBGID_COUNT"
  [ -z "${2:-}" ] || printf '%s\n' "$2"
}

# rl_lxc_define NAME TARBALL [LINES]: the container, its rootfs extracted by the user inside the
# containers' ID mapping, so that the container's root owns it. The config is written last: a
# container with a config is complete. A config the lab has changed since is rewritten, and the
# container stopped so that it starts again with it; a rootfs of other IDs (a user made anew with
# another range) is extracted again.
rl_lxc_define() {
  local name=$1 tarball=$2 dir=$RL_LXC_PATH/$1 config
  config=$(rl_lxc_config "$name" "${3:-}")
  [ "$(cat "$dir/config" 2>/dev/null)" = "$config" ] && return 0
  if [ -f "$dir/config" ] && [ "$(stat -c %u "$dir/rootfs")" = "$RL_SUBUID" ]; then
    log "rootless lxc: updating $name"
    as_rootless lxc-stop -n "$name" -k >/dev/null 2>&1 || true
  else
    log "rootless lxc: defining $name"
    rm -rf "$dir"
    as_rootless mkdir -p "$dir"
    install -d -o "$RL_SUBUID" -g "$RL_SUBGID" -m 0755 "$dir/rootfs"
    as_rootless lxc-usernsexec -m "u:0:$RL_SUBUID:$RL_SUBUID_COUNT" -m "g:0:$RL_SUBGID:$RL_SUBGID_COUNT" -- \
      tar -C "$dir/rootfs" -xf - <"$tarball"
  fi
  printf '%s\n' "$config" | as_rootless tee "$dir/config" >/dev/null
}

# rl_lxc_clear_cgroups NAME: a container killed with SIGKILL leaves its cgroups behind, and LXC would
# start it again in NAME-1, NAME-2... rmdir removes only empty cgroups: a running container's stay.
rl_lxc_clear_cgroups() {
  local c
  for c in $RL_CGROUPS; do
    rmdir "/sys/fs/cgroup/$c/$RL_USER"/lxc.{monitor,payload}."$1"{,-[0-9]*} 2>/dev/null || true
  done
}

rl_lxc_has_pid() { [ -n "$(as_rootless lxc-info -n "$1" -p -H 2>/dev/null)" ]; }

# rl_lxc_ensure_running NAME: lxc-start by the user, from inside its cgroups (see rootless_cgroups):
# LXC makes the container's cgroups below the ones it starts in.
rl_lxc_ensure_running() {
  local name=$1 c procs=()
  [ "$(as_rootless lxc-info -n "$name" -s -H 2>/dev/null)" = RUNNING ] && return 0
  log "rootless lxc: starting $name"
  rl_lxc_clear_cgroups "$name"
  for c in $RL_CGROUPS; do procs+=("/sys/fs/cgroup/$c/$RL_USER/cgroup.procs"); done
  as_rootless sh -c 'for f in "$@"; do echo $$ >"$f"; done; exec lxc-start -n "$0" -d' "$name" "${procs[@]}"
  wait_for "rootless lxc container $name" 30 rl_lxc_has_pid "$name"
}

rootless_lxc_fixtures() {
  rootless_cgroups
  rootless_lxc_path
  rl_lxc_define lab-rl-lxc "$LAB_DIR/busybox.tar"
  rl_lxc_ensure_running lab-rl-lxc
  rl_lxc_define lab-rl-lxc-noshell "$LAB_DIR/noshell.tar"
  rl_lxc_ensure_running lab-rl-lxc-noshell
  # The limits of lxc.sh's limited container, which apply here through the user's cgroups.
  rl_lxc_define lab-rl-lxc-limited "$LAB_DIR/busybox.tar" "lxc.cgroup.memory.limit_in_bytes = 33554432
lxc.cgroup.pids.max = 16
lxc.rootfs.options = ro"
  rl_lxc_ensure_running lab-rl-lxc-limited
  # Defined, never started: resolving it must give E_NOT_RUNNING.
  rl_lxc_define lab-rl-lxc-stopped "$LAB_DIR/busybox.tar"
}
