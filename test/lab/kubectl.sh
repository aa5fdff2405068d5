# kubectl from Debian's kubernetes-client (1.20), for the kubectl-scope plugin's routing test
# (test/integration/kubectl-scope.test.ts). Sourced by setup.sh.
# /usr/bin/kubectl may belong to another package (a cloud SDK's dispatcher), which installing
# kubernetes-client would overwrite: the package is unpacked into the lab's directory instead, and the
# test runs that binary by its path.

KUBECTL_DIR=$LAB_DIR/kubernetes-client
KUBECTL_BIN=$KUBECTL_DIR/usr/bin/kubectl

kubectl_works() { "$KUBECTL_BIN" version --client >/dev/null 2>&1; }

start_kubectl() {
  local tmp
  kubectl_works && return 0
  log "kubectl: unpacking Debian's kubernetes-client into $KUBECTL_DIR"
  tmp=$(mktemp -d)
  # apt-get download writes as its sandbox user, which must be able to enter the directory.
  chmod 755 "$tmp"
  if ! (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null 2>&1); then
    apt-get update -qq
    if ! (cd "$tmp" && apt-get download -qq kubernetes-client >/dev/null); then
      rm -rf "$tmp"
      die "kubectl: apt-get could not download kubernetes-client"
    fi
  fi
  # Unpacked beside the final place and renamed, so a failure leaves no half a tree that looks installed.
  rm -rf "$KUBECTL_DIR.tmp"
  dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$KUBECTL_DIR.tmp"
  rm -rf "$tmp" "$KUBECTL_DIR"
  mv "$KUBECTL_DIR.tmp" "$KUBECTL_DIR"
}

kubectl_fixtures() {
  kubectl_works || die "kubectl: $KUBECTL_BIN does not run"
}
