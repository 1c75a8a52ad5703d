#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) as a local process.
#
#   infra/kafka.sh start     resolve jars if needed, format storage once, start, wait until ready
#   infra/kafka.sh stop      SIGTERM (controlled shutdown) and wait; SIGKILL after a timeout
#   infra/kafka.sh kill      SIGKILL (crash simulation); data is kept, next start recovers
#   infra/kafka.sh status    exit 0 when running and answering, 3 when stopped, 1 when unhealthy
#   infra/kafka.sh restart   stop + start
#   infra/kafka.sh jars      only resolve the jars (prints the libs directory)
#   infra/kafka.sh tool CLASS|ALIAS [args...]   run a Kafka CLI class from the jars; aliases:
#       topics          org.apache.kafka.tools.TopicCommand
#       consumer-groups org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
#       producer        org.apache.kafka.tools.ConsoleProducer
#       consumer        org.apache.kafka.tools.consumer.ConsoleConsumer
#       api-versions    org.apache.kafka.tools.BrokerApiVersionsCommand
#       quorum          org.apache.kafka.tools.MetadataQuorumCommand
#       storage         kafka.tools.StorageTool
#     e.g. infra/kafka.sh tool topics --bootstrap-server 127.0.0.1:9092 --list
#
# Secure by default: 127.0.0.1:${SALESFLOW_KAFKA_PORT:-9092} is SASL_PLAINTEXT (SCRAM-SHA-256/512),
# 127.0.0.1:${SALESFLOW_KAFKA_TLS_PORT:-port+2} SASL_SSL with a certificate of the local CA
# (.local/secrets/tls/ca.pem), 127.0.0.1:${SALESFLOW_KAFKA_CONTROLLER_PORT:-9093} the controller
# (SASL PLAIN, admin only). The StandardAuthorizer denies what no ACL allows; `admin` is the
# super user. A SCRAM user per principal of contracts/access.py, its password in
# .local/secrets/kafka/<name>; `salesflow acl apply` (up.sh runs it) writes the ACLs.
# The Kafka tools need the admin's client config: --command-config .local/kafka/admin.properties
# State: .local/kafka/.
# Env: SALESFLOW_CACHE (jar cache root), SALESFLOW_M2_REPO (Maven local repo override),
#      KAFKA_HEAP_OPTS, SALESFLOW_KAFKA_START_TIMEOUT (s, default 120),
#      SALESFLOW_KAFKA_STOP_TIMEOUT (s, default 60).
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT="${SALESFLOW_KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${SALESFLOW_KAFKA_STOP_TIMEOUT:-60}"
POM="$INFRA_DIR/kafka/pom.xml"
# marker in the broker's command line, so we never signal somebody else's process
PROC_MARK="-Dsalesflow.kafka.home=$KAFKA_DIR"

# ---- jars -----------------------------------------------------------------------------
pom_digest() { sha256sum "$POM" | awk '{print $1}'; }

ensure_jars() {
    local marker="$KAFKA_HOME/.resolved"
    if [[ -f "$marker" && -d "$KAFKA_LIBS" && "$(cat "$marker")" == "$(pom_digest)" ]]; then
        return 0
    fi
    ensure_java 1
    mkdir -p "$KAFKA_HOME"
    local tmp="$KAFKA_HOME/libs.tmp.$$" mvnlog="$KAFKA_HOME/resolve.log" repo_opt=()
    [[ -n "${SALESFLOW_M2_REPO:-}" ]] && repo_opt=("-Dmaven.repo.local=$SALESFLOW_M2_REPO")
    log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS (first run only)..."
    rm -rf "$tmp"
    local t0=$SECONDS
    if ! mvn -B -q --no-transfer-progress -Dstyle.color=never "${repo_opt[@]}" -f "$POM" \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
            >"$mvnlog" 2>&1; then
        rm -rf "$tmp"
        show_tail "$mvnlog" 60
        die "Maven could not resolve the Kafka jars (full log: $mvnlog)"
    fi
    [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "resolution finished but kafka_2.13-$KAFKA_VERSION.jar is missing (pom/lib.sh version mismatch?)"; }
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    pom_digest >"$marker"
    log "resolved $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - t0))s"
}

# tool_cmd CLASS|ALIAS [args...]: sets TOOL_CMD to the java command line for a Kafka CLI class
tool_cmd() {
    local cls="$1"; shift
    case "$cls" in
        topics)          cls=org.apache.kafka.tools.TopicCommand ;;
        consumer-groups) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
        producer)        cls=org.apache.kafka.tools.ConsoleProducer ;;
        consumer)        cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
        api-versions)    cls=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
        quorum)          cls=org.apache.kafka.tools.MetadataQuorumCommand ;;
        storage)         cls=kafka.tools.StorageTool ;;
    esac
    TOOL_CMD=(java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$INFRA_DIR/kafka/tools-log4j2.xml"
        -cp "$KAFKA_LIBS/*" "$cls" "$@")
}
run_tool() { tool_cmd "$@"; "${TOOL_CMD[@]}"; }

# ---- config + storage -----------------------------------------------------------------
ADMIN_PROPERTIES="$KAFKA_DIR/admin.properties"
SCRAM_USERS_FILE="$KAFKA_DIR/scram-users"

# the principals of contracts/access.py (admin first)
principals() {
    repo_python -c "from contracts.access import PRINCIPALS; print(' '.join(p.name for p in PRINCIPALS))"
}

scram_line() {  # scram_line MECHANISM NAME: the --add-scram / --add-config value
    printf '%s=[name=%s,password=%s]' "$1" "$2" "$(secret_value kafka "$2")"
}

write_config() {
    mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
    local admin_password scram plain
    admin_password="$(secret_value kafka admin)"
    scram="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$admin_password\";"
    plain="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$admin_password\" user_admin=\"$admin_password\";"
    (umask 077 && cat >"$ADMIN_PROPERTIES" <<EOF
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=$scram
EOF
    )
    (umask 077 && cat >"$KAFKA_CONFIG.tmp" <<EOF
# Generated by infra/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=CLIENT://$KAFKA_HOST:$KAFKA_PORT,TLS://$KAFKA_HOST:$KAFKA_TLS_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=CLIENT://$KAFKA_HOST:$KAFKA_PORT,TLS://$KAFKA_HOST:$KAFKA_TLS_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=CLIENT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,TLS:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
log.dirs=$KAFKA_DATA

# Authentication: SCRAM for clients (users live in the cluster metadata, made at format time),
# PLAIN for the controller (SCRAM users cannot authenticate the quorum that stores them).
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-256.sasl.jaas.config=$scram
listener.name.client.scram-sha-512.sasl.jaas.config=$scram
listener.name.tls.scram-sha-256.sasl.jaas.config=$scram
listener.name.tls.scram-sha-512.sasl.jaas.config=$scram
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain
# TLS: the local CA's certificate for 127.0.0.1/localhost; a client certificate is optional
# (SASL names the principal).
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=requested

# Authorization: what no ACL allows is denied; admin (topics, ACLs, operators) is the super user.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin

# single node
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
# After a SIGKILL the restarted broker cannot re-register until its previous registration's
# session expires (DUPLICATE_BROKER_REGISTRATION); the default 9s session makes every
# kill+start ~14s. 5s (heartbeat 1s) keeps crash-restart tests fast on a single node.
broker.session.timeout.ms=5000
broker.heartbeat.interval.ms=1000

# topics are created explicitly (salesflow topics create)
auto.create.topics.enable=false
num.partitions=6
delete.topic.enable=true

num.network.threads=3
num.io.threads=8
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
EOF
    )
    mv "$KAFKA_CONFIG.tmp" "$KAFKA_CONFIG"
}

ensure_formatted() {
    if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
        [[ -f "$SCRAM_USERS_FILE" ]] && return 0
        die "$KAFKA_DATA was formatted before Kafka needed SASL users; start afresh with infra/down.sh --purge"
    fi
    if [[ -n "$(ls -A "$KAFKA_DATA" 2>/dev/null)" ]]; then
        die "$KAFKA_DATA is not empty but has no meta.properties; refusing to format over it (use infra/down.sh --purge)"
    fi
    local cid
    if [[ -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
        cid="$(cat "$KAFKA_CLUSTER_ID_FILE")"
    else
        cid="$(run_tool storage random-uuid | tail -n1)"
        [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "could not generate a cluster id (got: $cid)"
        echo "$cid" >"$KAFKA_CLUSTER_ID_FILE"
    fi
    log "formatting KRaft storage in $KAFKA_DATA (cluster id $cid, standalone controller)"
    local out users=() name
    for name in $(principals); do
        users+=(--add-scram "$(scram_line SCRAM-SHA-256 "$name")" --add-scram "$(scram_line SCRAM-SHA-512 "$name")")
    done
    if ! out="$(run_tool storage format --config "$KAFKA_CONFIG" --cluster-id "$cid" --standalone "${users[@]}" 2>&1)"; then
        printf '%s\n' "$out" | grep -v 'password=' >&2
        die "kafka storage format failed"
    fi
    principals | tr ' ' '\n' >"$SCRAM_USERS_FILE"
}

# Principals declared after the storage was formatted get their SCRAM users from the admin.
ensure_users() {
    local name
    for name in $(principals); do
        grep -qx "$name" "$SCRAM_USERS_FILE" && continue
        log "adding SCRAM user $name"
        # one mechanism per request: Kafka 4.1 refuses two credentials of a user in one
        # (DuplicateResourceException)
        for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
            run_tool kafka.admin.ConfigCommand --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" \
                --command-config "$ADMIN_PROPERTIES" --alter --entity-type users --entity-name "$name" \
                --add-config "$(scram_line "$mechanism" "$name" | sed 's/name=[^,]*,//')" \
                >/dev/null || die "could not add the SCRAM user $name"
        done
        echo "$name" >>"$SCRAM_USERS_FILE"
    done
}

# ---- process --------------------------------------------------------------------------
read_pid() { cat "$KAFKA_PID_FILE" 2>/dev/null || true; }

running_pid() {
    local pid
    pid="$(read_pid)"
    if is_pid_alive "$pid" "salesflow.kafka.home=$KAFKA_DIR"; then
        echo "$pid"
        return 0
    fi
    return 1
}

# the broker answers an ApiVersions request (it only does once fully started)
kafka_answers() {
    tool_cmd api-versions --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --command-config "$ADMIN_PROPERTIES"
    timeout 30 "${TOOL_CMD[@]}" >/dev/null 2>&1
}

wait_ready() {
    local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! is_pid_alive "$pid"; then
            show_tail "$KAFKA_LOGS/kafka.out" 15
            show_tail "$KAFKA_LOGS/server.log" 30
            rm -f "$KAFKA_PID_FILE"
            die "Kafka exited during startup (logs: $KAFKA_LOGS)"
        fi
        if port_open "$KAFKA_HOST" "$KAFKA_PORT" && kafka_answers; then
            return 0
        fi
        sleep 1
    done
    show_tail "$KAFKA_LOGS/server.log" 40
    die "Kafka did not answer on $KAFKA_HOST:$KAFKA_PORT within ${START_TIMEOUT}s (pid $pid still running; logs: $KAFKA_LOGS)"
}

cmd_start() {
    local pid
    if pid="$(running_pid)"; then
        log "kafka already running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
        # principals declared since it started (or since a start that failed adding them)
        ensure_users
        return 0
    fi
    rm -f "$KAFKA_PID_FILE"
    for p in "$KAFKA_PORT" "$KAFKA_TLS_PORT" "$KAFKA_CONTROLLER_PORT"; do
        port_open "$KAFKA_HOST" "$p" && die "port $KAFKA_HOST:$p is already in use by another process (not our broker); stop it or set SALESFLOW_KAFKA_PORT / SALESFLOW_KAFKA_TLS_PORT / SALESFLOW_KAFKA_CONTROLLER_PORT"
    done
    ensure_jars
    ensure_java 0
    ensure_tls
    write_config
    ensure_formatted
    mkdir -p "$KAFKA_LOGS"
    {
        echo
        echo "==== $(date -Is) starting kafka $KAFKA_VERSION"
    } >>"$KAFKA_LOGS/kafka.out"
    # setsid: own session, survives the calling shell; the inner bash records its pid and
    # execs java, so the pid file holds the JVM's pid.
    # shellcheck disable=SC2086,SC2016  # KAFKA_HEAP_OPTS is a list of JVM flags; $$ is the inner shell's
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID_FILE" \
        java $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
        -Djava.awt.headless=true "$PROC_MARK" \
        -Dkafka.logs.dir="$KAFKA_LOGS" \
        -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.xml" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONFIG" \
        >>"$KAFKA_LOGS/kafka.out" 2>&1 </dev/null &
    local t0=$SECONDS
    for _ in $(seq 50); do [[ -s "$KAFKA_PID_FILE" ]] && break; sleep 0.1; done
    pid="$(read_pid)"
    [[ -n "$pid" ]] || die "could not start Kafka (no pid file)"
    wait_ready "$pid"
    ensure_users
    log "kafka $KAFKA_VERSION up (pid $pid) on $KAFKA_HOST:$KAFKA_PORT (SASL), $KAFKA_HOST:$KAFKA_TLS_PORT (SASL_SSL) in $((SECONDS - t0))s"
}

# wait until the JVM is gone and its ports are closed (the main thread can already be a
# zombie while the other threads still hold the listening sockets)
wait_gone() {
    local pid="$1" secs="$2" deadline
    deadline=$((SECONDS + secs))
    while is_pid_alive "$pid" || port_open "$KAFKA_HOST" "$KAFKA_PORT" \
            || port_open "$KAFKA_HOST" "$KAFKA_TLS_PORT" \
            || port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
    return 0
}

cmd_stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$KAFKA_PID_FILE"
        log "kafka not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
        warn "kafka (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "kafka (pid $pid) survived SIGKILL?"
    fi
    rm -f "$KAFKA_PID_FILE"
    log "kafka stopped"
}

cmd_kill() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$KAFKA_PID_FILE"
        log "kafka not running"
        return 0
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "kafka (pid $pid) survived SIGKILL?"
    rm -f "$KAFKA_PID_FILE"
    log "kafka killed (SIGKILL, pid $pid)"
}

cmd_status() {
    local pid
    if ! pid="$(running_pid)"; then
        echo "kafka: stopped"
        return 3
    fi
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
        echo "kafka: running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
        return 0
    fi
    echo "kafka: process $pid alive but $KAFKA_HOST:$KAFKA_PORT not accepting connections"
    return 1
}

case "${1:-}" in
    start)   cmd_start ;;
    stop)    cmd_stop ;;
    kill)    cmd_kill ;;
    restart) cmd_stop; cmd_start ;;
    status)  cmd_status ;;
    jars)    ensure_jars; echo "$KAFKA_LIBS" ;;
    tool)
        shift
        [[ $# -ge 1 ]] || die "usage: $0 tool CLASS|ALIAS [args...]"
        ensure_jars
        ensure_java 0
        run_tool "$@"
        ;;
    *)
        echo "usage: $0 {start|stop|kill|restart|status|jars|tool CLASS [args...]}" >&2
        exit 2
        ;;
esac
