#!/usr/bin/env bash
# One command from a fresh clone to scope-engine's main job on a lab container (Debian 12, as root):
# starts the runtime lab, installs and builds scope-engine, then runs the built-in payload inside a
# podman container, steers it, and asks it how it is doing.
set -euo pipefail
cd "$(dirname "$0")"
bash test/lab/setup.sh
npm ci --no-audit --no-fund
# The CRI pods (made by a Node script) and the node agent image (built from this checkout) need npm ci's packages.
LAB_RUNTIMES="cri image" bash test/lab/setup.sh
npm run build
export NODE_EXTRA_CA_CERTS=   # only slows every Node start here
se() { echo "\$ scope-engine $*" >&2; node dist/cli/main.js "$@"; }
se runtimes
se ps --runtime podman
se resolve --runtime podman lab-pod
echo "(podman's own inspect says $(podman inspect -f '{{.State.Pid}}' lab-pod))" >&2
se exec --runtime podman lab-pod -- ps
# The main job: the probe runs inside lab-pod, as its user, reporting a JSON line per second.
se run --runtime podman lab-pod -- '{install}/scope-probe' --pid '{pid}' --dir '{install}' --count 3
se run --detach --runtime podman lab-pod
se detach --runtime podman lab-pod
se ipc --runtime podman lab-pod status
se reattach --runtime podman lab-pod
se stop --runtime podman lab-pod   # ends the probe it started (never by name) and removes the install
echo "install the command with: npm link   (then: scope-engine --help)" >&2
