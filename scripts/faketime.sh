#!/usr/bin/env bash
# Print the path of libfaketime's preload library (the chaos harness's clock_skew fault runs a
# worker under it, LD_PRELOAD, so that every clock the process reads is hours off), fetching it
# first if this machine has none.
#
# The library comes from Debian's `libfaketime` package (the `faketime` command is only its
# wrapper). As for promtool (scripts/alerts.sh), only the package file is fetched (apt-get
# download, no root needed where the lists are fresh) and the library extracted into the cache
# beside the Kafka jars; a library the system already has is used as it is. Run by the harness
# when a run asks for clock_skew, so `make chaos` on a fresh machine gets it like the other tools.
set -euo pipefail
# shellcheck source=../infra/lib.sh
source "$(dirname "$0")/../infra/lib.sh"

FAKETIME_DIR="$SALESFLOW_CACHE/faketime"
# libfaketimeMT: the variant for multi-threaded programs (a worker has asyncio's executor threads)
LIBRARY="libfaketimeMT.so.1"

find_library() {
    local found
    for found in "/usr/lib/$(uname -m)-linux-gnu/faketime/$LIBRARY" "$FAKETIME_DIR/$LIBRARY"; do
        [[ -f "$found" ]] && { echo "$found"; return 0; }
    done
    return 1
}

fetch_library() {
    command -v apt-get >/dev/null 2>&1 || die "libfaketime missing and no apt-get: install libfaketime"
    local work
    work="$(mktemp -d)"
    # apt-get download drops privileges to _apt where it can; a directory it may write to.
    chmod 0777 "$work"
    if ! (cd "$work" && apt-get download -qq libfaketime >&2); then
        [[ $EUID -eq 0 ]] || die "cannot fetch the libfaketime package (run as root, or install libfaketime)"
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        (cd "$work" && apt-get download -qq libfaketime >&2) || die "apt-get download libfaketime failed"
    fi
    dpkg-deb -x "$work"/libfaketime_*.deb "$work/root"
    mkdir -p "$FAKETIME_DIR"
    install -m 0644 "$work/root/usr/lib/$(uname -m)-linux-gnu/faketime/$LIBRARY" "$FAKETIME_DIR/$LIBRARY"
    rm -rf "$work"
    log "libfaketime in $FAKETIME_DIR"
}

find_library || { fetch_library; find_library; }
