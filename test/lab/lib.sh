# Shared helpers for the lab scripts. Sourced, never run.
# Every function is idempotent: running the lab twice leaves the same state as running it once.

LAB_DIR=${LAB_DIR:-/var/lib/scope-lab}
LAB_LOG_DIR=${LAB_LOG_DIR:-/var/log/scope-lab}
LAB_IMAGE=scope-lab-busybox
# An image with no shell and no tools: only /bin/sleep (busybox under that name).
LAB_NOSHELL_IMAGE=scope-lab-noshell
LAB_LABEL=scope-lab=1
# docker and podman flags of the hostile-container suite's "limited" containers (word-split on use).
LAB_LIMITS="--read-only --memory 32m --pids-limit 16"

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not come up within ${secs}s (see $LAB_LOG_DIR)"
}

# start_daemon NAME COMMAND...: starts COMMAND detached from this shell, logging to LAB_LOG_DIR/NAME.log.
# setsid so that the daemon outlives the script and is not hit by the caller's signals; in the log
# directory, never the checkout: podman's conmon, which inherits it, writes an "oom" file in its
# working directory when a container's memory limit kills its process. Its PID goes to
# LAB_LOG_DIR/NAME.pid, for wait_for_daemon.
start_daemon() {
  local name=$1; shift
  mkdir -p "$LAB_LOG_DIR"
  log "starting $name"
  (cd "$LAB_LOG_DIR" && exec setsid "$@" >>"$LAB_LOG_DIR/$name.log" 2>&1 </dev/null) &
  echo $! >"$LAB_LOG_DIR/$name.pid"
}

# wait_for_daemon NAME SECONDS COMMAND...: wait_for, but a daemon that exits stops the wait at once,
# and either failure shows the end of the daemon's log (CI keeps only what the lab printed).
wait_for_daemon() {
  local name=$1 secs=$2; shift 2
  local pid i
  pid=$(cat "$LAB_LOG_DIR/$name.pid")
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || daemon_failed "$name" "exited before it answered"
    sleep 0.2
  done
  daemon_failed "$name" "did not answer within ${secs}s"
}

daemon_failed() {
  log "the last lines of $LAB_LOG_DIR/$1.log:"
  tail -n 15 "$LAB_LOG_DIR/$1.log" >&2 || true
  die "$1 $2"
}

# clear_stale CHECK SOCKET [FILE...]: when SOCKET exists but the command CHECK gets no answer through
# it, removes SOCKET and the FILEs. A daemon killed with SIGKILL (as at the end of a session) leaves its
# socket and pid file behind, and its successors trip over them: dockerd, seeing a socket at
# /run/containerd/containerd.sock, dials it instead of starting its own containerd, and gives up.
clear_stale() {
  local check=$1 sock=$2; shift 2
  [ -e "$sock" ] || return 0
  "$check" >/dev/null 2>&1 && return 0
  log "removing $sock, left by a daemon that no longer answers"
  rm -f "$sock" "$@"
}

# lab_sleep_alive PID: PID is a lab container's `/bin/sleep 1000000`. A runtime's word is not enough:
# podman, whose conmon was SIGKILLed with its container (as at the end of a session), still reports the
# container running with its dead PID.
lab_sleep_alive() {
  [ -n "$1" ] && [ "$1" != 0 ] && [ "$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null)" = "/bin/sleep 1000000 " ]
}

# clear_stale_pidfile FILE NAME: removes FILE unless the PID in it is a live process called NAME.
# After SIGKILL the PID may already be another process's, and dockerd would wait for it as its
# containerd; or it may still be the killed daemon, a zombie not yet reaped.
clear_stale_pidfile() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  # The third field of /proc/PID/stat is the state; Z is a zombie.
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] \
    && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
    return 0
  fi
  log "removing $1, whose PID $pid is not a live $2"
  rm -f "$1"
}

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# skeleton ROOT: the directories and account files both lab images share.
skeleton() {
  local root=$1
  mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,root,home/app,dev/shm,usr/lib}
  chmod 1777 "$root/tmp" "$root/dev/shm"
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n'\
'nobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  chown 1000:1000 "$root/home/app"
}

# build_noshell: the shell-less image's tree and tarball.
build_noshell() {
  local root=$LAB_DIR/noshell
  [ -f "$LAB_DIR/noshell.tar" ] && return 0
  log "building the shell-less root filesystem"
  rm -rf "$root"
  skeleton "$root"
  cp /bin/busybox "$root/bin/sleep"
  tar -C "$root" -cf "$LAB_DIR/noshell.tar.tmp" .
  mv "$LAB_DIR/noshell.tar.tmp" "$LAB_DIR/noshell.tar"
}

# build_rootfs: a minimal root filesystem from Debian's static busybox, as RUNTIME-LAB.md describes.
# A non-root user (uid 1000) is there for the ID-mapping cases.
build_rootfs() {
  local root=$LAB_DIR/rootfs
  build_noshell
  if [ -f "$LAB_DIR/busybox.tar" ]; then return 0; fi
  log "building the busybox root filesystem"
  rm -rf "$root"
  skeleton "$root"
  cp /bin/busybox "$root/bin/busybox"
  chroot "$root" /bin/busybox --install -s /bin
  tar -C "$root" -cf "$LAB_DIR/busybox.tar.tmp" .
  mv "$LAB_DIR/busybox.tar.tmp" "$LAB_DIR/busybox.tar"
}
