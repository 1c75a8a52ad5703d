#!/usr/bin/env bash
# The AsyncAPI documents in docs/asyncapi: regenerate them, or check them.
#
#   bash scripts/asyncapi.sh           # regenerate (python -m salesflow.asyncapi), then validate
#   bash scripts/asyncapi.sh --check   # committed documents up to date, and valid (make lint)
#
# Validation is the AsyncAPI parser's own (@asyncapi/parser from npm, the version pinned by
# scripts/asyncapi/package-lock.json), installed with `npm ci` into .tools/asyncapi; any
# diagnostic of severity error fails, and so does a message example its own payload or headers
# schema refuses (ajv). Node and npm come from Debian's packages when missing.
set -euo pipefail
# shellcheck source=../infra/lib.sh
source "$(dirname "$0")/../infra/lib.sh"
cd "$ROOT"

TOOLS="$ROOT/.tools/asyncapi"
LOCK="$ROOT/scripts/asyncapi/package-lock.json"

install_parser() {
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    if [[ -d "$TOOLS/node_modules/@asyncapi/parser" ]] && cmp -s "$LOCK" "$TOOLS/package-lock.json"; then
        return
    fi
    log "npm ci @asyncapi/parser into $TOOLS"
    rm -rf "$TOOLS"
    mkdir -p "$TOOLS"
    cp "$ROOT/scripts/asyncapi/package.json" "$LOCK" "$TOOLS/"
    # --ignore-scripts: a parser needs no install hook (one dependency's only phones home).
    npm ci --prefix "$TOOLS" --ignore-scripts --no-audit --no-fund --loglevel=error >&2 \
        || die "npm ci of the AsyncAPI parser failed"
}

if [[ "${1:-}" == "--check" ]]; then
    .venv/bin/python -m salesflow.asyncapi --check
else
    .venv/bin/python -m salesflow.asyncapi
fi
install_parser
ASYNCAPI_TOOLS="$TOOLS" node scripts/asyncapi/validate.cjs docs/asyncapi/*.json
