#!/bin/sh
# Plays kubectl for kubectl-scope-lab.test.ts: the real one ($REAL_KUBECTL) for every call but
# `exec AGENT -- scope-engine ARGS`, which runs ARGS on this machine's engine ($ENGINE_NODE
# $ENGINE_CLI), as the agent would on the pod's node: the lab's CRI pods stand for that node's.
verb=''
for arg; do
  case $arg in --context=* | --kubeconfig=*) ;; *) verb=$arg; break ;; esac
done
[ "$verb" = exec ] || exec "$REAL_KUBECTL" "$@"
while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
if [ $# -lt 2 ] || [ "$2" != scope-engine ]; then
  echo "kubectl-local-exec: no scope-engine command after --" >&2
  exit 99
fi
shift 2
exec "$ENGINE_NODE" "$ENGINE_CLI" "$@"
