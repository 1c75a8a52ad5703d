#!/usr/bin/env bash
# Stop the local infrastructure started by infra/up.sh. Idempotent.
#   infra/down.sh           Kafka: SIGTERM + wait (controlled shutdown); PostgreSQL: pg_ctl stop -m fast
#   infra/down.sh --purge   also delete their data, logs and secrets (.local/kafka{,-N}, .local/pg,
#                           .local/secrets, .local/salesflow.env)
# The jar cache (${SALESFLOW_CACHE:-~/.cache/salesflow}) is never touched.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
for arg in "$@"; do
    case "$arg" in
        --purge) purge=1 ;;
        *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
    esac
done

rc=0
bash "$INFRA_DIR/kafka.sh" stop || rc=1
bash "$INFRA_DIR/postgres.sh" stop || rc=1
((rc == 0)) || die "could not stop everything; not purging"

if ((purge)); then
    # the single node and every node of a cluster
    rm -rf "$LOCAL/kafka" "$LOCAL"/kafka-[0-9]* "$PG_DIR" "$ENV_FILE" "$SECRETS_DIR"
    if [[ -n "${SALESFLOW_PG_DATA:-}" ]]; then
        warn "SALESFLOW_PG_DATA=$PG_DATA is outside .local/ and was left alone; delete it yourself"
    fi
    rmdir "$LOCAL" 2>/dev/null || true
    log "purged kafka and postgres data under $LOCAL"
fi
