#!/usr/bin/env bash
# The pipeline end to end on the local infra: migrate, create topics, start each worker as its
# own process, feed sample leads, print what happened to them, stop the workers (SIGTERM).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
LEADS="${DEMO_LEADS:-200}"
WORKERS=(${DEMO_WORKERS:-lead})
mkdir -p .local/logs
export SALESFLOW_LOG_JSON=true

$BIN/salesflow migrate >/dev/null
$BIN/salesflow topics create

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

port=18080
for stage in "${WORKERS[@]}"; do
    SALESFLOW_HEALTH_PORT=$port $BIN/salesflow worker "$stage" >".local/logs/$stage.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 0.5
    done
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || {
        echo "worker $stage did not become ready; see .local/logs/$stage.log" >&2
        exit 1
    }
    echo "worker $stage ready (health on 127.0.0.1:$port, log .local/logs/$stage.log)"
    port=$((port + 1))
done

SALESFLOW_LOG_LEVEL=WARNING $BIN/salesflow feed --leads "$LEADS" --seed "${DEMO_SEED:-7}"
echo
echo "metrics of lead_svc (http://127.0.0.1:18080/metrics):"
curl -fsS http://127.0.0.1:18080/metrics | grep -E '^salesflow_(messages|commands|duplicates|outbox_published)[a-z_]*_total' | sed 's/^/  /'
