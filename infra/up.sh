#!/usr/bin/env bash
# Start the local infrastructure (PostgreSQL + single-node Kafka in KRaft mode) as plain
# processes on 127.0.0.1, installing missing prerequisites (Java 17 + Maven, PostgreSQL) via apt.
# Idempotent: what is already running is left alone.
#
# Secure by default: Kafka with SASL/SCRAM, a TLS listener and ACLs (applied here by
# `salesflow acl apply`), PostgreSQL with a role per service (infra/postgres.sh).
#
# On success prints the endpoints on stdout (everything else goes to stderr) and writes them to
# .local/salesflow.env; secrets stay in files under .local/secrets, named by *_FILE variables:
#   SALESFLOW_KAFKA_BOOTSTRAP=127.0.0.1:9092
#   SALESFLOW_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT
#   SALESFLOW_KAFKA_SASL_USERNAME=admin
#   SALESFLOW_KAFKA_SASL_PASSWORD_FILE=.../.local/secrets/kafka/admin
#   SALESFLOW_DATABASE_URL=postgresql+asyncpg://salesflow@127.0.0.1:5432/salesflow
#   SALESFLOW_DATABASE_PASSWORD_FILE=.../.local/secrets/pg/salesflow
#   ... (the TLS listener, the CA, the secrets directory)
# so `set -a; . .local/salesflow.env; set +a` (or `eval "$(infra/up.sh | sed 's/^/export /')"`)
# puts them into a shell.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kafka_up=0 pg_up=0
bash "$INFRA_DIR/kafka.sh" status >/dev/null 2>&1 && kafka_up=1
bash "$INFRA_DIR/postgres.sh" status >/dev/null 2>&1 && pg_up=1

# The ACLs of contracts/access.py, written by the admin (idempotent: only what is missing).
apply_acls() {
    write_env_file
    (set -a && . "$ENV_FILE" && set +a && "$ROOT/.venv/bin/salesflow" acl apply --quiet) >&2 \
        || die "could not apply the Kafka ACLs"
}

if ((kafka_up && pg_up)); then
    log "already running: kafka on $KAFKA_HOST:$KAFKA_PORT, postgres on $PG_HOST:$PG_PORT"
    # principals declared since the broker started get their SCRAM users and ACLs (both
    # idempotent: only what is missing is added)
    bash "$INFRA_DIR/kafka.sh" start >&2
    apply_acls
    print_endpoints
    exit 0
fi

t0=$SECONDS
((pg_up)) || bash "$INFRA_DIR/postgres.sh" start
if ! ((kafka_up)); then
    bash "$INFRA_DIR/kafka.sh" start
    apply_acls
fi
log "infra up in $((SECONDS - t0))s (state in $LOCAL; stop with infra/down.sh)"
print_endpoints
