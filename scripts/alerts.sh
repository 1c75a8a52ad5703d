#!/usr/bin/env bash
# Check and unit-test the Prometheus alert rules (ops/prometheus) with promtool.
#
# promtool comes from Debian's `prometheus` package. Installing that package would also set
# up (and may start) a Prometheus server, so only the package file is fetched (apt-get
# download) and its promtool extracted into the cache beside the Kafka jars; a promtool already
# on PATH is used as it is. Run by `make alerts`, which `make lint` (and so CI) runs.
set -euo pipefail
# shellcheck source=../infra/lib.sh
source "$(dirname "$0")/../infra/lib.sh"

PROMTOOL_DIR="$SALESFLOW_CACHE/promtool"

find_promtool() {
    if command -v promtool >/dev/null 2>&1; then
        command -v promtool
    elif [[ -x "$PROMTOOL_DIR/promtool" ]]; then
        echo "$PROMTOOL_DIR/promtool"
    else
        return 1
    fi
}

fetch_promtool() {
    command -v apt-get >/dev/null 2>&1 || die "promtool missing and no apt-get: install Prometheus's promtool"
    local work
    work="$(mktemp -d)"
    # apt-get download drops privileges to _apt where it can; a directory it may write to.
    chmod 0777 "$work"
    if ! (cd "$work" && apt-get download -qq prometheus >&2); then
        [[ $EUID -eq 0 ]] || die "cannot fetch the prometheus package (run as root, or install promtool)"
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        (cd "$work" && apt-get download -qq prometheus >&2) || die "apt-get download prometheus failed"
    fi
    dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
    mkdir -p "$PROMTOOL_DIR"
    install -m 0755 "$work/root/usr/bin/promtool" "$PROMTOOL_DIR/promtool"
    rm -rf "$work"
    log "promtool $("$PROMTOOL_DIR/promtool" --version 2>&1 | head -1 | awk '{print $3}') in $PROMTOOL_DIR"
}

promtool="$(find_promtool)" || { fetch_promtool; promtool="$(find_promtool)"; }
cd "$ROOT/ops/prometheus"
"$promtool" check rules alerts.yml
"$promtool" test rules alerts.test.yml
