#!/usr/bin/env bash
# The pipeline end to end on the local infra: migrate, create topics, load the sample price list,
# start the workers of the deployment as separate processes (DEMO_DEPLOYMENT: full, the default,
# crm-leads or crm-quotes; the driver plays the ERP for the stages salesflow does not run), then
#   1. the ERP's customer master data (samples/accounts.jsonl: addresses, tax ids, customer
#      numbers) and a trade-show list of leads (samples/leads.csv, some rows bad on purpose)
#      imported; their orders carry the addresses,
#   2. a small lead feed that shows every kind of lead outcome (and three poison messages),
#   3. the driver: a few hundred deals from lead to paid invoice, with customers and accounting
#      (and the ERP's stages) played by it, and its funnel;
#   4. the clock moved 46 and 80 days on by ticks: quotes expire, unpaid invoices are reminded;
# then stop the workers with SIGTERM. DEMO_INVOICE_MODE=external lets the driver post the
# invoices as the ERP in the full deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
LEADS="${DEMO_LEADS:-300}"
MODE="${DEMO_INVOICE_MODE:-native}"
DEPLOYMENT="${DEMO_DEPLOYMENT:-full}"
RUNS="$($BIN/python -c "from contracts.stages import deployment; print(' '.join(deployment('$DEPLOYMENT').runs))")"
read -r -a WORKERS <<<"${DEMO_WORKERS:-$RUNS}"
mkdir -p .local/logs
export SALESFLOW_LOG_JSON=true SALESFLOW_INVOICE_MODE="$MODE"

$BIN/salesflow migrate >/dev/null
$BIN/salesflow topics create
$BIN/salesflow catalog load samples/price_list.csv

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Each worker as its own Kafka principal and database role (the local infra's secrets); the
# commands below run as the admin of .local/salesflow.env.
identity() {
    local svc="${1}_svc"
    [[ -n "${SALESFLOW_SECRETS_DIR:-}" ]] || return 0
    printf '%s ' "SALESFLOW_KAFKA_SASL_USERNAME=$svc" \
        "SALESFLOW_KAFKA_SASL_PASSWORD_FILE=$SALESFLOW_SECRETS_DIR/kafka/$svc" \
        "SALESFLOW_DATABASE_USER=$svc" "SALESFLOW_DATABASE_PASSWORD_FILE=$SALESFLOW_SECRETS_DIR/pg/$svc"
}

port=18080
for stage in "${WORKERS[@]}"; do
    # shellcheck disable=SC2046  # identity prints NAME=VALUE words without spaces
    env $(identity "$stage") SALESFLOW_HEALTH_PORT=$port $BIN/salesflow worker "$stage" >".local/logs/$stage.log" 2>&1 &
    pids+=($!)
    ready=0
    for _ in $(seq 1 120); do
        if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
        sleep 0.5
    done
    if ((!ready)); then
        echo "worker $stage did not become ready; see .local/logs/$stage.log" >&2
        exit 1
    fi
    echo "worker $stage ready (health and metrics on http://127.0.0.1:$port, log .local/logs/$stage.log)"
    port=$((port + 1))
done

echo
# The ERP's customers first (waiting until lead_svc holds them), so the imported leads link to
# them; the import lists its bad rows and exits 2 for them, which the demo expects.
$BIN/salesflow accounts import samples/accounts.jsonl --wait 30
$BIN/salesflow leads import samples/leads.csv --campaign CMP-2026-AUTUMN || [[ $? -eq 2 ]]
echo
SALESFLOW_LOG_LEVEL=WARNING $BIN/salesflow feed --leads 60 --seed "${DEMO_SEED:-7}"
echo
extra=(--deployment "$DEPLOYMENT")
[[ "$MODE" == external ]] && extra+=(--erp-invoices)
$BIN/salesflow drive --leads "$LEADS" --rate "${DEMO_RATE:-100}" --seed "${DEMO_SEED:-7}" "${extra[@]}"
echo
# What the database says, not the driver: the pipeline and billing figures, then what every
# customer owes, aged by days past due (the driver's own deals and anything else in it).
$BIN/salesflow report
echo
$BIN/salesflow receivables
echo
echo
# Time moves. salesflow learns it from ticks (each worker sends one an hour; `salesflow tick
# --at` sends one for any time, which is how a drill or this demo moves the clock): 46 days on,
# every quote issued today is past its 30 days and expires, every invoice still owing is
# overdue with its reminders; 80 days on, the last reminder level (7, 21 and 45 days past due).
for days in 46 80; do
    at="$(date -u -d "+$days days" +%Y-%m-%dT%H:%M:%S)"
    echo "the clock moves $days days on"
    $BIN/salesflow tick --at "$at"
done
sleep "${DEMO_TICK_WAIT:-5}"
$BIN/salesflow report time
echo
$BIN/salesflow receivables --as-of "$(date -u -d '+80 days' +%F)"
echo
echo "follow one deal:  .venv/bin/salesflow trace <deal id>   (deal ids start with deal-)"
