#!/usr/bin/env bash
# Print the path of toxiproxy-server (the TCP fault proxy of the chaos harness's network faults),
# building it first if this machine has none.
#
# Toxiproxy is a Go program; it is built from source with `go install` at a pinned version
# (through the Go module proxy, about 30 s) into the cache beside the Kafka jars and promtool,
# once per machine. A toxiproxy-server already on PATH at any version is used as it is. Run by
# the chaos harness when a run asks for a network fault, so `make chaos` on a fresh machine gets
# it like the other tools.
set -euo pipefail
# shellcheck source=../infra/lib.sh
source "$(dirname "$0")/../infra/lib.sh"

TOXIPROXY_VERSION="v2.5.0"
TOXIPROXY_DIR="$SALESFLOW_CACHE/toxiproxy-${TOXIPROXY_VERSION#v}"

find_toxiproxy() {
    if command -v toxiproxy-server >/dev/null 2>&1; then
        command -v toxiproxy-server
    elif [[ -x "$TOXIPROXY_DIR/toxiproxy-server" ]]; then
        echo "$TOXIPROXY_DIR/toxiproxy-server"
    else
        return 1
    fi
}

build_toxiproxy() {
    command -v go >/dev/null 2>&1 || die "toxiproxy-server missing and no Go toolchain: install Go (go.dev/dl) or toxiproxy"
    local work
    mkdir -p "$TOXIPROXY_DIR"
    # built into a directory of its own and moved in whole: two runs building at once each
    # leave a complete binary, never a half-written one
    work="$(mktemp -d "$TOXIPROXY_DIR/build.XXXXXX")"
    log "building toxiproxy $TOXIPROXY_VERSION with go install (first run only)..."
    local t0=$SECONDS
    # the module's `server` command is toxiproxy-server (its releases name it so)
    if ! GOBIN="$work" GOFLAGS=-buildvcs=false go install \
            "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >&2; then
        rm -rf "$work"
        die "go install github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION failed"
    fi
    mv "$work/server" "$TOXIPROXY_DIR/toxiproxy-server"
    rm -rf "$work"
    log "toxiproxy $TOXIPROXY_VERSION in $TOXIPROXY_DIR ($((SECONDS - t0))s)"
}

find_toxiproxy || { build_toxiproxy; find_toxiproxy; }
