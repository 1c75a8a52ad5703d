#!/usr/bin/env bash
# Start the local infrastructure (PostgreSQL + single-node Kafka in KRaft mode) as plain
# processes on 127.0.0.1, installing missing prerequisites (Java 17 + Maven, PostgreSQL) via apt.
# Idempotent: what is already running is left alone.
#
# On success prints the endpoints on stdout (everything else goes to stderr) and writes them to
# .local/salesflow.env:
#   SALESFLOW_KAFKA_BOOTSTRAP=127.0.0.1:9092
#   SALESFLOW_DATABASE_URL=postgresql+asyncpg://salesflow:salesflow@127.0.0.1:5432/salesflow
# so `set -a; . .local/salesflow.env; set +a` (or `eval "$(infra/up.sh | sed 's/^/export /')"`)
# puts them into a shell.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kafka_up=0 pg_up=0
bash "$INFRA_DIR/kafka.sh" status >/dev/null 2>&1 && kafka_up=1
bash "$INFRA_DIR/postgres.sh" status >/dev/null 2>&1 && pg_up=1

if ((kafka_up && pg_up)); then
    log "already running: kafka on $KAFKA_HOST:$KAFKA_PORT, postgres on $PG_HOST:$PG_PORT"
    print_endpoints
    exit 0
fi

t0=$SECONDS
((pg_up)) || bash "$INFRA_DIR/postgres.sh" start
((kafka_up)) || bash "$INFRA_DIR/kafka.sh" start
log "infra up in $((SECONDS - t0))s (state in $LOCAL; stop with infra/down.sh)"
print_endpoints
