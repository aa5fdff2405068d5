#!/usr/bin/env bash
# The runtime lab: installs and starts the container runtimes scope-engine's tests talk to, and the
# fixture containers those tests use. Run as root on Debian 12. Idempotent.
#   bash test/lab/setup.sh            # every runtime
#   LAB_RUNTIMES="docker podman" bash test/lab/setup.sh
#   LAB_RUNTIMES="cri image" bash test/lab/setup.sh   # after npm ci: the CRI pods and the node agent image
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/docker.sh"
. "$here/containerd.sh"
. "$here/cri.sh"
. "$here/podman.sh"
. "$here/lxc.sh"
. "$here/lxd.sh"
. "$here/go-plugin.sh"
. "$here/rootless.sh"
. "$here/kubectl.sh"
. "$here/image.sh"

[ "$(id -u)" = 0 ] || die "the lab must run as root"
# docker first: the containerd image is imported from it. cri after containerd, whose daemon it shares
# (it starts it itself when run alone). rootless last: it needs none of the others, and whatever of it
# fails leaves them up. image (the node agent image) is asked for by name, after npm ci: see image.sh.
runtimes=${LAB_RUNTIMES:-docker containerd cri podman lxc lxd go_plugin kubectl rootless}

# libseccomp-dev: the native core links libseccomp statically (npm install builds it). time: GNU
# time, which npm run bench reads a command's peak memory with.
apt_install busybox-static uidmap procps libseccomp-dev time
build_rootfs
for rt in $runtimes; do
  "start_$rt"
  "${rt}_fixtures"
done
log "ready: $runtimes"
