# A Go plugin built against Debian's go-plugin 1.0.1 (GOPATH mode, Debian's Go packages only), for
# the interop test. Sourced by setup.sh; builds $LAB_DIR/go-plugin/go-cgroup.

GO_PLUGIN_BIN=$LAB_DIR/go-plugin/go-cgroup

start_go_plugin() {
  apt_install golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev golang-goprotobuf-dev \
    golang-golang-x-net-dev protobuf-compiler
}

go_plugin_fixtures() {
  local repo src gopath
  repo=$(cd "$here/../.." && pwd)
  src=$repo/fixtures/plugins/go-cgroup/main.go
  if [ -x "$GO_PLUGIN_BIN" ] && [ "$GO_PLUGIN_BIN" -nt "$src" ] \
    && [ "$GO_PLUGIN_BIN" -nt "$repo/plugins/proto/runtime.proto" ]; then
    return 0
  fi
  log "go-plugin: building $GO_PLUGIN_BIN"
  gopath=$LAB_DIR/go-plugin/gopath
  rm -rf "$gopath"
  mkdir -p "$gopath/src/scopeengine/runtime/v1" "$gopath/src/go-cgroup"
  protoc -I "$repo/plugins/proto" \
    --go_out=plugins=grpc,paths=source_relative:"$gopath/src/scopeengine/runtime/v1" runtime.proto
  cp "$src" "$gopath/src/go-cgroup/main.go"
  (cd "$gopath/src/go-cgroup" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$LAB_DIR/go-plugin/cache" \
    go build -o "$GO_PLUGIN_BIN.tmp" . 2>&1 | tail -20)
  mv "$GO_PLUGIN_BIN.tmp" "$GO_PLUGIN_BIN"
}
