#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) as a local process.
#
#   infra/kafka.sh start [N]   resolve jars if needed, format storage once, start, wait until ready
#   infra/kafka.sh stop [N]    SIGTERM (controlled shutdown) and wait; SIGKILL after a timeout
#   infra/kafka.sh kill [N]    SIGKILL (crash simulation); data is kept, next start recovers
#   infra/kafka.sh pause N     SIGSTOP (a hung broker: sockets open, nothing answered)
#   infra/kafka.sh resume N    SIGCONT
#   infra/kafka.sh status [N]  exit 0 when running and answering, 3 when stopped, 1 when unhealthy
#   infra/kafka.sh controller  print the node.id of the active KRaft controller
#   infra/kafka.sh proxied     print the chaos fault proxy's addresses (listen upstream, per node;
#                              its API; its PostgreSQL proxy)
#   infra/kafka.sh restart     stop + start
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
#
# Cluster mode (SALESFLOW_KAFKA_BROKERS=3, remembered in .local/salesflow.env): N combined
# broker+controller nodes, node.id 1..N, a static quorum of all N controllers, node n on the
# ports of node 1 plus 10*(n-1), its state in .local/kafka-n/; replication factor 3,
# min.insync.replicas=2. N (a node.id) picks one node; without it every node is meant.
# Env: SALESFLOW_CACHE (jar cache root), SALESFLOW_M2_REPO (Maven local repo override),
#      KAFKA_HEAP_OPTS, SALESFLOW_KAFKA_START_TIMEOUT (s, default 120),
#      SALESFLOW_KAFKA_STOP_TIMEOUT (s, default 60).
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT="${SALESFLOW_KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${SALESFLOW_KAFKA_STOP_TIMEOUT:-60}"
POM="$INFRA_DIR/kafka/pom.xml"

# use_node N: every path, port and file below is node N's
use_node() {
    select_node "$1"
    # marker in the broker's command line, so we never signal somebody else's process
    PROC_MARK="-Dsalesflow.kafka.home=$KAFKA_DIR"
    ADMIN_PROPERTIES="$KAFKA_DIR/admin.properties"
    SCRAM_USERS_FILE="$KAFKA_DIR/scram-users"
}
use_node 1

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
    local quorum n voters=()
    if ((KAFKA_BROKERS == 1)); then
        quorum="controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT"
    else
        # a static quorum: every node a voter, the same list on each
        for ((n = 1; n <= KAFKA_BROKERS; n++)); do
            voters+=("$n@$KAFKA_HOST:$((KAFKA_BASE_CONTROLLER_PORT + NODE_PORT_STEP * (n - 1)))")
        done
        quorum="controller.quorum.voters=$(IFS=,; echo "${voters[*]}")"
    fi
    (umask 077 && cat >"$KAFKA_CONFIG.tmp" <<EOF
# Generated by infra/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$KAFKA_NODE
$quorum
# PROXIED: for clients behind the chaos harness's fault proxy, which listens on the advertised
# port and forwards to the listener's (infra/lib.sh, PROXIED_OFFSET)
listeners=CLIENT://$KAFKA_HOST:$KAFKA_PORT,TLS://$KAFKA_HOST:$KAFKA_TLS_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT,PROXIED://$KAFKA_HOST:$((KAFKA_PORT + PROXIED_OFFSET))
advertised.listeners=CLIENT://$KAFKA_HOST:$KAFKA_PORT,TLS://$KAFKA_HOST:$KAFKA_TLS_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT,PROXIED://$KAFKA_HOST:$((KAFKA_PORT + PROXY_OFFSET))
inter.broker.listener.name=CLIENT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,TLS:SASL_SSL,CONTROLLER:SASL_PLAINTEXT,PROXIED:SASL_PLAINTEXT
log.dirs=$KAFKA_DATA

# Authentication: SCRAM for clients (users live in the cluster metadata, made at format time),
# PLAIN for the controller (SCRAM users cannot authenticate the quorum that stores them).
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-256.sasl.jaas.config=$scram
listener.name.client.scram-sha-512.sasl.jaas.config=$scram
listener.name.tls.scram-sha-256.sasl.jaas.config=$scram
listener.name.tls.scram-sha-512.sasl.jaas.config=$scram
listener.name.proxied.scram-sha-256.sasl.jaas.config=$scram
listener.name.proxied.scram-sha-512.sasl.jaas.config=$scram
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

# $KAFKA_BROKERS node(s): every topic on $KAFKA_REPLICATION_FACTOR of them, an acks=all write on $KAFKA_MIN_ISR
offsets.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.replication.factor=$KAFKA_REPLICATION_FACTOR
transaction.state.log.min.isr=$KAFKA_MIN_ISR
share.coordinator.state.topic.replication.factor=$KAFKA_REPLICATION_FACTOR
share.coordinator.state.topic.min.isr=$KAFKA_MIN_ISR
default.replication.factor=$KAFKA_REPLICATION_FACTOR
min.insync.replicas=$KAFKA_MIN_ISR
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
    # a single node is its own dynamic quorum; a cluster's static voters are in its config
    local out users=() name quorum=()
    ((KAFKA_BROKERS == 1)) && quorum=(--standalone)
    log "formatting KRaft storage in $KAFKA_DATA (cluster id $cid, node $KAFKA_NODE of $KAFKA_BROKERS)"
    for name in $(principals); do
        users+=(--add-scram "$(scram_line SCRAM-SHA-256 "$name")" --add-scram "$(scram_line SCRAM-SHA-512 "$name")")
    done
    if ! out="$(run_tool storage format --config "$KAFKA_CONFIG" --cluster-id "$cid" "${quorum[@]}" "${users[@]}" 2>&1)"; then
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
            run_tool kafka.admin.ConfigCommand --bootstrap-server "$(kafka_servers CLIENT)" \
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

# the broker answers an ApiVersions request (it only does once fully started). In a cluster the
# tool asks every broker of the metadata, and one paused or down would hold it up: there a node
# is ready once its server logged that it started (after it caught up and was unfenced) since
# this start (`since`: the log's line count before it).
kafka_answers() {
    local since="$1"
    if ((KAFKA_BROKERS > 1)); then
        logged_since "$KAFKA_LOGS/server.log" "$since" 'Kafka Server started'
        return
    fi
    tool_cmd api-versions --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --command-config "$ADMIN_PROPERTIES"
    timeout 30 "${TOOL_CMD[@]}" >/dev/null 2>&1
}

log_lines() {
    if [[ -f "$KAFKA_LOGS/server.log" ]]; then wc -l <"$KAFKA_LOGS/server.log"; else echo 0; fi
}

wait_ready() {
    local pid="$1" since="$2" deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! is_pid_alive "$pid"; then
            show_tail "$KAFKA_LOGS/kafka.out" 15
            show_tail "$KAFKA_LOGS/server.log" 30
            rm -f "$KAFKA_PID_FILE"
            die "Kafka exited during startup (logs: $KAFKA_LOGS)"
        fi
        if port_open "$KAFKA_HOST" "$KAFKA_PORT" && kafka_answers "$since"; then
            return 0
        fi
        sleep 1
    done
    show_tail "$KAFKA_LOGS/server.log" 40
    die "Kafka did not answer on $KAFKA_HOST:$KAFKA_PORT within ${START_TIMEOUT}s (pid $pid still running; logs: $KAFKA_LOGS)"
}

# launch_node: start the selected node's JVM unless it runs; sets LAUNCHED_PID and LOG_SINCE
# (empty when it was already running)
launch_node() {
    local pid
    LAUNCHED_PID="" LOG_SINCE=""
    if pid="$(running_pid)"; then
        log "kafka node $KAFKA_NODE already running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
        return 0
    fi
    rm -f "$KAFKA_PID_FILE"
    for p in "$KAFKA_PORT" "$KAFKA_TLS_PORT" "$KAFKA_CONTROLLER_PORT"; do
        port_open "$KAFKA_HOST" "$p" && die "port $KAFKA_HOST:$p is already in use by another process (not our broker); stop it or set SALESFLOW_KAFKA_PORT / SALESFLOW_KAFKA_TLS_PORT / SALESFLOW_KAFKA_CONTROLLER_PORT"
    done
    write_config
    ensure_formatted
    mkdir -p "$KAFKA_LOGS"
    LOG_SINCE="$(log_lines)"
    {
        echo
        echo "==== $(date -Is) starting kafka $KAFKA_VERSION (node $KAFKA_NODE of $KAFKA_BROKERS)"
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
    for _ in $(seq 50); do [[ -s "$KAFKA_PID_FILE" ]] && break; sleep 0.1; done
    LAUNCHED_PID="$(read_pid)"
    [[ -n "$LAUNCHED_PID" ]] || die "could not start Kafka node $KAFKA_NODE (no pid file)"
}

# cmd_start [N]: every node (launched together: a cluster's controllers need a quorum before
# any of them is ready), or node N; then the SCRAM users of principals declared since
cmd_start() {
    local n t0=$SECONDS pids=() sinces=() nodes
    nodes="$(node_list "${1:-}")"
    ensure_jars
    ensure_java 0
    ensure_tls
    if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]] && ((KAFKA_BROKERS > 1)); then
        mkdir -p "$(dirname "$KAFKA_CLUSTER_ID_FILE")"
        local cid
        cid="$(run_tool storage random-uuid | tail -n1)"
        [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "could not generate a cluster id (got: $cid)"
        echo "$cid" >"$KAFKA_CLUSTER_ID_FILE"
    fi
    for n in $nodes; do
        use_node "$n"
        launch_node
        pids[n]="$LAUNCHED_PID" sinces[n]="$LOG_SINCE"
    done
    for n in $nodes; do
        [[ -n "${pids[n]}" ]] || continue
        use_node "$n"
        wait_ready "${pids[n]}" "${sinces[n]}"
        log "kafka $KAFKA_VERSION node $n up (pid ${pids[n]}) on $KAFKA_HOST:$KAFKA_PORT (SASL), $KAFKA_HOST:$KAFKA_TLS_PORT (SASL_SSL) in $((SECONDS - t0))s"
    done
    use_node 1
    ensure_users
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

# node_list [N]: N (checked), else every node
node_list() {
    if [[ -z "${1:-}" ]]; then
        seq 1 "$KAFKA_BROKERS"
        return
    fi
    [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= KAFKA_BROKERS)) \
        || die "no node $1 (nodes 1..$KAFKA_BROKERS; SALESFLOW_KAFKA_BROKERS=$KAFKA_BROKERS)"
    echo "$1"
}

cmd_stop() {
    local n pid pids=()
    # SIGTERM to every node at once, then wait: one by one, the last nodes would wait for a
    # controller quorum the first ones took away
    for n in $(node_list "${1:-}"); do
        use_node "$n"
        if pid="$(running_pid)"; then
            kill -CONT "$pid" 2>/dev/null || true  # a paused node cannot shut down
            kill -TERM "$pid" 2>/dev/null || true
            pids[n]="$pid"
        else
            rm -f "$KAFKA_PID_FILE"
            log "kafka node $n not running"
        fi
    done
    for n in "${!pids[@]}"; do
        use_node "$n"
        pid="${pids[n]}"
        if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
            warn "kafka node $n (pid $pid) did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 10 || die "kafka (pid $pid) survived SIGKILL?"
        fi
        rm -f "$KAFKA_PID_FILE"
        log "kafka node $n stopped"
    done
}

cmd_kill() {
    local n pid
    for n in $(node_list "${1:-}"); do
        use_node "$n"
        if ! pid="$(running_pid)"; then
            rm -f "$KAFKA_PID_FILE"
            log "kafka node $n not running"
            continue
        fi
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "kafka (pid $pid) survived SIGKILL?"
        rm -f "$KAFKA_PID_FILE"
        log "kafka node $n killed (SIGKILL, pid $pid)"
    done
}

# cmd_signal STOP|CONT N: pause or resume one node
cmd_signal() {
    local pid
    [[ -n "${2:-}" ]] || die "usage: $0 pause|resume N"
    use_node "$(node_list "$2")"
    pid="$(running_pid)" || die "kafka node $2 is not running"
    kill -"$1" "$pid"
    log "kafka node $2 (pid $pid): SIG$1"
}

# The node.id of the active controller (the quorum's leader). Every running voter persists the
# leader it knows and its epoch in quorum-state on each election; the leader of the highest epoch
# is the one. Read from files, not asked with MetadataQuorumCommand: a JVM tool on a loaded
# machine took over 60 s, longer than the election it was to observe. Exit 1 while no leader of
# the latest epoch is known (an election under way).
cmd_controller() {
    local n state epoch leader best=-1 found=""
    for n in $(node_list ""); do
        use_node "$n"
        running_pid >/dev/null || continue
        state="$(cat "$KAFKA_DATA/__cluster_metadata-0/quorum-state" 2>/dev/null)" || continue
        epoch="$(sed -n 's/.*"leaderEpoch":\([0-9]*\).*/\1/p' <<<"$state")"
        leader="$(sed -n 's/.*"leaderId":\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$state")"
        [[ -n "$epoch" ]] || continue
        if ((epoch > best)); then
            best="$epoch" found=""
        fi
        ((epoch == best)) && [[ -n "$leader" && "$leader" != -* ]] && found="$leader"
    done
    [[ -n "$found" ]] || die "no active controller known (an election under way?)"
    echo "$found"
}

# One line per node for the chaos harness's fault proxy: the address it listens on (the one the
# node's PROXIED listener advertises) and the listener it forwards to.
cmd_proxied() {
    local listen upstream n
    IFS=, read -r -a listen <<<"$(kafka_servers PROXY)"
    IFS=, read -r -a upstream <<<"$(kafka_servers PROXIED)"
    for n in "${!listen[@]}"; do
        echo "${listen[$n]} ${upstream[$n]}"
    done
    echo "api $KAFKA_HOST:$((KAFKA_BASE_PORT + TOXIPROXY_API_OFFSET))"
    echo "postgres $KAFKA_HOST:$((KAFKA_BASE_PORT + PG_PROXY_OFFSET)) $PG_HOST:$PG_PORT"
}

cmd_status() {
    local n pid rc=0 stopped=0 nodes
    nodes="$(node_list "${1:-}")"
    for n in $nodes; do
        use_node "$n"
        if ! pid="$(running_pid)"; then
            echo "kafka node $n: stopped"
            stopped=$((stopped + 1))
        elif [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == "T" ]]; then
            echo "kafka node $n: paused (pid $pid)"
            rc=1
        elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
            echo "kafka node $n: running (pid $pid) on $KAFKA_HOST:$KAFKA_PORT"
        else
            echo "kafka node $n: process $pid alive but $KAFKA_HOST:$KAFKA_PORT not accepting connections"
            rc=1
        fi
    done
    ((stopped == $(wc -w <<<"$nodes"))) && return 3
    ((stopped == 0)) || rc=1
    return "$rc"
}

case "${1:-}" in
    start)   cmd_start "${2:-}" ;;
    stop)    cmd_stop "${2:-}" ;;
    kill)    cmd_kill "${2:-}" ;;
    pause)   cmd_signal STOP "${2:-}" ;;
    resume)  cmd_signal CONT "${2:-}" ;;
    restart) cmd_stop; cmd_start ;;
    status)  cmd_status "${2:-}" ;;
    controller) cmd_controller ;;
    proxied) cmd_proxied ;;
    jars)    ensure_jars; echo "$KAFKA_LIBS" ;;
    tool)
        shift
        [[ $# -ge 1 ]] || die "usage: $0 tool CLASS|ALIAS [args...]"
        ensure_jars
        ensure_java 0
        run_tool "$@"
        ;;
    *)
        echo "usage: $0 {start|stop|kill|status [N]|pause|resume N|controller|proxied|restart|jars|tool CLASS [args...]}" >&2
        exit 2
        ;;
esac
