#!/usr/bin/env bash
# Bring the compose stack up with Docker or Podman, carry a few deals through it and tear it
# down. Not part of CI (CI has no container engine); run it by hand after changing the
# Dockerfile or docker-compose.yml:
#
#   scripts/compose-smoke.sh                 # docker compose, else docker-compose, else podman-compose
#   COMPOSE="podman-compose" scripts/compose-smoke.sh
#   SMOKE_DEALS=10 SMOKE_KEEP=1 scripts/compose-smoke.sh   # more deals; leave the stack up
#
# Host ports default to free ones (SALESFLOW_KAFKA_HOST_PORT, SALESFLOW_PG_HOST_PORT,
# SALESFLOW_GATEWAY_HOST_PORT), so it runs beside a local infra/up.sh stack. What it checks:
#   1. the kafka-users job (SCRAM users) and the setup job (database roles, migrations, topics,
#      ACLs, the sample price list) exited 0, and the gateway is ready;
#   2. a lead posted to the gateway over HTTP (demo key) is qualified and its quote is issued
#      (priced from the loaded list), read back through the gateway's trace endpoint;
#   3. `salesflow drive` in a one-off container carries SMOKE_DEALS deals from lead to invoice
#      with the customers and accounting played, and every one completes;
#   4. the workers and the gateway stop within their grace period with exit code 0 (stopped
#      through the engine with the compose file's grace: podman-compose 1.0.3 would use 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT="${SMOKE_PROJECT:-salesflow-smoke}"
DEALS="${SMOKE_DEALS:-5}"
KEY="demo-operator-key"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export SALESFLOW_KAFKA_HOST_PORT="${SALESFLOW_KAFKA_HOST_PORT:-$(free_port)}"
export SALESFLOW_PG_HOST_PORT="${SALESFLOW_PG_HOST_PORT:-$(free_port)}"
export SALESFLOW_GATEWAY_HOST_PORT="${SALESFLOW_GATEWAY_HOST_PORT:-$(free_port)}"

if [[ -n "${COMPOSE:-}" ]]; then
    read -r -a compose <<<"$COMPOSE"
elif docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
elif command -v podman-compose >/dev/null 2>&1; then
    compose=(podman-compose)
else
    echo "no docker compose, docker-compose or podman-compose found" >&2
    exit 2
fi
dc() { "${compose[@]}" -p "$PROJECT" "$@"; }
engine=docker
[[ "${compose[0]}" == podman* ]] && engine=podman
say() { printf '[smoke] %s\n' "$*" >&2; }

teardown() {
    local code=$?
    if [[ $code -ne 0 ]]; then
        say "failed; the last lines of each service:"
        dc logs --tail 30 >&2 2>&1 || true
    fi
    if [[ -z "${SMOKE_KEEP:-}" ]]; then
        say "tearing down"
        # podman-compose 1.0.3's `down -v` keeps the containers' anonymous volumes (the Kafka
        # image declares some) and the project's network, which `docker compose down -v` drops
        if [[ "$engine" == podman ]]; then
            mapfile -t all < <(podman ps -a -q --filter "label=com.docker.compose.project=$PROJECT")
            ((${#all[@]} == 0)) || podman rm -f -v "${all[@]}" >/dev/null 2>&1 || true
        fi
        dc down -v >/dev/null 2>&1 || true
        if [[ "$engine" == podman ]]; then
            podman network rm "${PROJECT}_default" >/dev/null 2>&1 || true
        fi
    fi
    exit $code
}
trap teardown EXIT

say "compose: ${compose[*]}; kafka 127.0.0.1:$SALESFLOW_KAFKA_HOST_PORT, postgres :$SALESFLOW_PG_HOST_PORT, gateway :$SALESFLOW_GATEWAY_HOST_PORT"
dc build
dc up -d

gateway="http://127.0.0.1:$SALESFLOW_GATEWAY_HOST_PORT"
# Docker waits for the one-shot jobs before starting the workers; podman-compose 1.0.3 starts
# everything at once and the workers restart until their SCRAM user and ACLs exist. So wait for
# the jobs to exit (0) first. On a shared two-core machine (load average 10 to 28) a first start
# took from 2 to over 9 minutes until both had exited, most of it Kafka's start and kafka-users
# (two JVM tool runs per principal): 15 minutes at most by default.
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-900}"
deadline=$((SECONDS + READY_TIMEOUT))
job_exit() {  # job_exit SERVICE: its exit code once it has exited, else nothing
    local id
    id="$("$engine" ps -a -q --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=$1" | head -n 1)"
    [[ -n "$id" ]] || return 0
    [[ "$("$engine" inspect -f '{{.State.Status}}' "$id")" == exited ]] || return 0
    "$engine" inspect -f '{{.State.ExitCode}}' "$id"
}
for job in kafka-users setup; do
    say "waiting for the $job job"
    until code="$(job_exit "$job")" && [[ -n "$code" ]]; do
        ((SECONDS < deadline)) || { say "$job did not finish within ${READY_TIMEOUT}s"; exit 1; }
        sleep 3
    done
    [[ "$code" == 0 ]] || { say "$job exited $code"; exit 1; }
    say "$job done (${SECONDS}s since start)"
done
say "waiting for the gateway"
until curl -fsS "$gateway/readyz" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { say "gateway not ready within ${READY_TIMEOUT}s"; exit 1; }
    sleep 2
done

lead="smoke-$(date +%s)"
say "posting lead $lead over HTTP"
curl -fsS -X POST "$gateway/v1/leads" \
    -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
    -H "Idempotency-Key: $lead" \
    -d '{"lead_id": "'"$lead"'", "source": "web_form", "company_name": "Smoke Test '"$lead"' Ltd",
         "contact": {"first_name": "Ada", "last_name": "Lovelace", "email": "'"$lead"'@example.com"},
         "topic": "widgets", "budget_amount": "50000", "currency": "EUR",
         "purchase_timeframe": "this_quarter",
         "product_interests": [{"sku": "SKU-1001", "quantity": "10"}]}' >&2
echo >&2
issued=0
for _ in $(seq 1 90); do
    if curl -fsS "$gateway/v1/deals/$lead/trace" -H "Authorization: Bearer $KEY" 2>/dev/null \
        | grep -q '"event_type":"quote.issued"'; then
        issued=1
        break
    fi
    sleep 2
done
((issued)) || { say "lead $lead: no quote.issued (price list not loaded?)"; exit 1; }
say "lead $lead qualified and quoted (quote.issued)"

# --no-deps: the stack is up; podman-compose would otherwise start the one-shot jobs again.
say "driving $DEALS deals through the workers"
dc run --rm --no-deps -T --entrypoint salesflow setup drive --leads "$DEALS" --rate 2 --idle-timeout 90 >&2

say "stopping the workers and the gateway (SIGTERM, 60 s grace)"
mapfile -t stopping < <("$engine" ps -q --filter "label=com.docker.compose.project=$PROJECT")
"$engine" stop -t 60 "${stopping[@]}" >/dev/null
failed=0
while read -r name service code; do
    case "$service" in lead_svc | quote_svc | order_svc | invoice_svc | gateway) ;; *) continue ;; esac
    say "$name exited $code"
    [[ "$code" == 0 ]] || failed=1
done < <("$engine" inspect -f '{{.Name}} {{index .Config.Labels "com.docker.compose.service"}} {{.State.ExitCode}}' "${stopping[@]}")
((!failed)) || { say "a worker did not stop cleanly"; exit 1; }
say "OK: the stack came up, a lead over HTTP was quoted, $DEALS deals completed, all stopped cleanly"
