#!/usr/bin/env bash
# Print the path of libfaketime's preload library, installing Debian's `libfaketime` package
# first if this machine has none. The chaos harness's clock_skew fault runs a worker with it
# in LD_PRELOAD, so that every wall clock the process reads is hours off. Run by the harness
# when a run asks for clock_skew, so `make chaos` on a fresh machine gets it like the other
# tools (apt_install, as for Java and Node: a library, no service comes with it).
set -euo pipefail
# shellcheck source=../infra/lib.sh
source "$(dirname "$0")/../infra/lib.sh"

# libfaketimeMT: the variant for multi-threaded programs (a worker has asyncio's executor threads)
LIBRARY="/usr/lib/$(uname -m)-linux-gnu/faketime/libfaketimeMT.so.1"

[[ -f "$LIBRARY" ]] || apt_install libfaketime
[[ -f "$LIBRARY" ]] || die "libfaketime installed but $LIBRARY is missing"
echo "$LIBRARY"
