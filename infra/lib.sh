# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this file
# Shared helpers for infra/*.sh. Sourced, never executed.
#
# Everything is resolved from this file's location, never from the current directory:
#   ROOT             the repo root (parent of infra/)
#   LOCAL            $ROOT/.local, git-ignored runtime state (data, logs, pid files)
#   SALESFLOW_CACHE  jar cache outside git (default ~/.cache/salesflow)
#
# Messages go to stderr; only the final endpoint lines of up.sh go to stdout.

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$INFRA_DIR/.." && pwd -P)"
# SALESFLOW_LOCAL_DIR lets a second, independent instance (other ports) run beside the first.
LOCAL="${SALESFLOW_LOCAL_DIR:-$ROOT/.local}"

# ---- versions / endpoints -------------------------------------------------------------
# Keep KAFKA_VERSION in sync with <kafka.version> in infra/kafka/pom.xml and the
# apache/kafka image tag in docker-compose.yml.
KAFKA_VERSION="4.1.1"
KAFKA_HOST="127.0.0.1"
ENV_FILE="$LOCAL/salesflow.env"
# Brokers: 1 (the default, the demo's single node) or a cluster of N combined broker+controller
# nodes (SALESFLOW_KAFKA_BROKERS=3: replication factor 3, min.insync.replicas=2, like production).
# Without the variable a checkout keeps the mode its servers were last brought up in (the env
# file up.sh writes names it), so down.sh stops what up.sh started.
KAFKA_BROKERS="${SALESFLOW_KAFKA_BROKERS:-}"
if [[ -z "$KAFKA_BROKERS" && -f "$ENV_FILE" ]]; then
    KAFKA_BROKERS="$(sed -n 's/^SALESFLOW_KAFKA_BROKERS=\([0-9]*\)$/\1/p' "$ENV_FILE")"
fi
KAFKA_BROKERS="${KAFKA_BROKERS:-1}"
[[ "$KAFKA_BROKERS" =~ ^[1-9]$ ]] || { printf '[infra] ERROR: SALESFLOW_KAFKA_BROKERS=%s: 1 to 9\n' "$KAFKA_BROKERS" >&2; exit 2; }
# Replicas of every topic (the internal ones too): 3 at most, and at least 2 of them in sync for
# an acks=all write, as a production cluster runs; one copy on a single node.
KAFKA_REPLICATION_FACTOR=$((KAFKA_BROKERS < 3 ? KAFKA_BROKERS : 3))
KAFKA_MIN_ISR=$((KAFKA_REPLICATION_FACTOR > 1 ? KAFKA_REPLICATION_FACTOR - 1 : 1))
# Node n of a cluster listens NODE_PORT_STEP ports above node 1 (client, TLS, controller alike):
# SALESFLOW_KAFKA_PORT=19400 gives 19400, 19410, 19420.
NODE_PORT_STEP=10
KAFKA_PORT="${SALESFLOW_KAFKA_PORT:-9092}"
# The controller endpoint is written into the KRaft metadata when storage is formatted:
# changing it later needs `infra/down.sh --purge`.
KAFKA_CONTROLLER_PORT="${SALESFLOW_KAFKA_CONTROLLER_PORT:-9093}"
# The TLS listener (SASL_SSL) sits two above the client port, so every checkout's set of ports
# moves together with SALESFLOW_KAFKA_PORT (set SALESFLOW_KAFKA_TLS_PORT to place it elsewhere).
KAFKA_TLS_PORT="${SALESFLOW_KAFKA_TLS_PORT:-}"
# A cluster's three JVMs share the machine: a small heap each.
if ((KAFKA_BROKERS > 1)); then
    KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx384m -Xms192m}"
else
    KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1g -Xms512m}"
fi

SALESFLOW_CACHE="${SALESFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/salesflow}"
KAFKA_HOME="$SALESFLOW_CACHE/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"

# node_dir N: the state directory of node N (.local/kafka for the single node, .local/kafka-N
# in a cluster)
node_dir() {
    if ((KAFKA_BROKERS == 1)); then echo "$LOCAL/kafka"; else echo "$LOCAL/kafka-$1"; fi
}
KAFKA_DIR="$(node_dir 1)"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
# one cluster id for every node (node 1's directory keeps it)
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"

PG_HOST="127.0.0.1"
PG_PORT="${SALESFLOW_PG_PORT:-5432}"
# The database's owner: creates the roles and schemas, and is a member of every service role
# (operators and tests read through it). Its password is generated like every other secret.
PG_USER="salesflow"
PG_DB="salesflow"
PG_DIR="$LOCAL/pg"
PG_DATA="${SALESFLOW_PG_DATA:-$PG_DIR/data}"
PG_LOGS="$PG_DIR/logs"

# A checkout whose servers were set up on other ports keeps them: without an explicit
# SALESFLOW_*_PORT the ports come from its own generated configs. Falling back to the defaults
# instead would find another checkout's servers on 9092/5432 and point this one at them (their
# schemas migrated by this code, their consumer groups joined).
if [[ -z "${SALESFLOW_KAFKA_PORT:-}" && -f "$KAFKA_CONFIG" ]]; then
    _listeners="$(sed -n 's/^listeners=//p' "$KAFKA_CONFIG")"
    # CLIENT since the listeners need SASL; PLAINTEXT in configs written before.
    [[ "$_listeners" =~ (CLIENT|PLAINTEXT)://[^,]*:([0-9]+) ]] && KAFKA_PORT="${BASH_REMATCH[2]}"
    [[ -z "${SALESFLOW_KAFKA_CONTROLLER_PORT:-}" && "$_listeners" =~ CONTROLLER://[^,]*:([0-9]+) ]] &&
        KAFKA_CONTROLLER_PORT="${BASH_REMATCH[1]}"
    [[ -z "$KAFKA_TLS_PORT" && "$_listeners" =~ TLS://[^,]*:([0-9]+) ]] &&
        KAFKA_TLS_PORT="${BASH_REMATCH[1]}"
fi
KAFKA_TLS_PORT="${KAFKA_TLS_PORT:-$((KAFKA_PORT + 2))}"
# The chaos harness's network faults (chaos/netfaults.py) put a TCP fault proxy (toxiproxy)
# between the workers and the servers. A client talks to the address the broker advertises, not
# the one it bootstrapped from, so a proxy in front of the client port would be bypassed after
# the first metadata answer: each node has a third client listener, PROXIED (SASL_PLAINTEXT,
# SCRAM like CLIENT) on port+3, that advertises port+4, where the proxy listens and forwards to
# port+3. Nothing listens on port+4 unless the harness runs its proxy. The proxy's own HTTP API
# sits on node 1's port+5 and its PostgreSQL proxy on port+6, so a checkout's ports stay together.
PROXIED_OFFSET=3
PROXY_OFFSET=4
TOXIPROXY_API_OFFSET=5
PG_PROXY_OFFSET=6
# node 1's ports, whatever node select_node picks later
KAFKA_BASE_PORT="$KAFKA_PORT"
KAFKA_BASE_TLS_PORT="$KAFKA_TLS_PORT"
KAFKA_BASE_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT"

# select_node N: point the KAFKA_* paths and ports at node N
select_node() {
    local offset=$((NODE_PORT_STEP * ($1 - 1)))
    KAFKA_NODE="$1"
    KAFKA_DIR="$(node_dir "$1")"
    KAFKA_DATA="$KAFKA_DIR/data"
    KAFKA_LOGS="$KAFKA_DIR/logs"
    KAFKA_PID_FILE="$KAFKA_DIR/kafka.pid"
    KAFKA_CONFIG="$KAFKA_DIR/server.properties"
    KAFKA_PORT=$((KAFKA_BASE_PORT + offset))
    KAFKA_TLS_PORT=$((KAFKA_BASE_TLS_PORT + offset))
    KAFKA_CONTROLLER_PORT=$((KAFKA_BASE_CONTROLLER_PORT + offset))
}
select_node 1

# kafka_servers WHICH: host:port of every node's client (CLIENT), TLS, CONTROLLER or PROXIED
# listener, or of the proxy in front of each PROXIED one (PROXY), comma separated
kafka_servers() {
    local base n out=()
    case "$1" in
        CLIENT) base="$KAFKA_BASE_PORT" ;;
        TLS) base="$KAFKA_BASE_TLS_PORT" ;;
        CONTROLLER) base="$KAFKA_BASE_CONTROLLER_PORT" ;;
        PROXIED) base=$((KAFKA_BASE_PORT + PROXIED_OFFSET)) ;;
        PROXY) base=$((KAFKA_BASE_PORT + PROXY_OFFSET)) ;;
    esac
    for ((n = 1; n <= KAFKA_BROKERS; n++)); do
        out+=("$KAFKA_HOST:$((base + NODE_PORT_STEP * (n - 1)))")
    done
    (IFS=,; echo "${out[*]}")
}
if [[ -z "${SALESFLOW_PG_PORT:-}" && -f "$PG_DATA/salesflow.conf" ]]; then
    _port="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$PG_DATA/salesflow.conf" 2>/dev/null || true)"
    [[ -n "$_port" ]] && PG_PORT="$_port"
fi
PG_LOG_FILE="$PG_LOGS/postgres.log"

# Secrets made at first start and kept until `infra/down.sh --purge`: one password per Kafka
# principal (secrets/kafka/<name>) and per PostgreSQL role (secrets/pg/<name>), and a local CA
# with the servers' certificate (secrets/tls/). Files only their owner can read, never printed.
SECRETS_DIR="$LOCAL/secrets"
TLS_DIR="$SECRETS_DIR/tls"

# ---- output ---------------------------------------------------------------------------
log()  { printf '[infra] %s\n' "$*" >&2; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }
die()  { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# print the last lines of a log file to stderr (used on failures)
show_tail() {
    local file="$1" n="${2:-40}"
    if [[ -s "$file" ]]; then
        printf '[infra] ---- last %s lines of %s ----\n' "$n" "$file" >&2
        tail -n "$n" "$file" >&2 || true
        printf '[infra] ----\n' >&2
    else
        printf '[infra] (no log at %s)\n' "$file" >&2
    fi
}

# ---- prerequisites --------------------------------------------------------------------
_APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "need to install: $* (no apt-get on this machine; install them by hand)"
    [[ $EUID -eq 0 ]] || die "need to install: $* (run as root, or: sudo apt-get install -y $*)"
    if [[ $_APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        _APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
        || die "apt-get install $* failed"
}

java_major() {
    java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

# Java >= 17 for the broker; Maven only when the jars still have to be resolved.
ensure_java() {
    local need_maven="${1:-0}" missing=()
    if ! command -v java >/dev/null 2>&1 || [[ "$(java_major)" -lt 17 ]]; then
        missing+=(openjdk-17-jre-headless)
    fi
    if [[ "$need_maven" == 1 ]] && ! command -v mvn >/dev/null 2>&1; then
        missing+=(maven)
    fi
    if ((${#missing[@]})); then
        # the brief: install both together when either is missing
        apt_install openjdk-17-jre-headless maven
    fi
    if [[ "$(java_major)" -lt 17 ]] && [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
        export PATH="/usr/lib/jvm/java-17-openjdk-amd64/bin:$PATH"
    fi
    [[ "$(java_major)" -ge 17 ]] || die "Kafka $KAFKA_VERSION needs Java >= 17; found: $(java -version 2>&1 | head -1)"
}

# ---- small utilities ------------------------------------------------------------------
# logged_since FILE N TEXT: a line after the first N lines of FILE contains TEXT. One reader,
# no pipe: `tail | grep -q` under pipefail failed with tail's SIGPIPE (141) whenever more than a
# pipe buffer of log followed the match, so a loaded cluster node that had started, and went on
# logging, was reported as not answering within the start timeout (seed 20261405, RELIABILITY.md).
logged_since() {
    local file="$1" since="$2" text="$3"
    [[ -f "$file" ]] || return 1
    awk -v since="$since" -v text="$text" \
        'NR > since && index($0, text) { found = 1; exit } END { exit !found }' "$file"
}

# true when something accepts TCP connections on host:port
port_open() {
    local host="$1" port="$2"
    (exec 3<>"/dev/tcp/$host/$port") >/dev/null 2>&1
}

# is_pid_alive PID [PATTERN]: process exists (and its command line matches PATTERN)
is_pid_alive() {
    local pid="$1" pattern="${2:-}"
    [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # a zombie is not alive
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]] || return 1
    if [[ -n "$pattern" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" || return 1
    fi
    return 0
}

# ---- secrets ----------------------------------------------------------------------------
# The project's Python (the principals and roles are declared in contracts/, not here).
repo_python() {
    local py="$ROOT/.venv/bin/python"
    [[ -x "$py" ]] || die "no virtualenv at $ROOT/.venv: run 'make bootstrap' first (the Kafka users and database roles are read from contracts/)"
    (cd "$ROOT" && "$py" "$@")
}

# secret KIND NAME: the path of the password file of principal/role NAME, made on first use
secret() {
    local file="$SECRETS_DIR/$1/$2"
    if [[ ! -s "$file" ]]; then
        mkdir -p "$SECRETS_DIR/$1"
        chmod 700 "$SECRETS_DIR" "$SECRETS_DIR/$1"
        (umask 077 && openssl rand -hex 24 >"$file.tmp" && mv "$file.tmp" "$file")
    fi
    echo "$file"
}

secret_value() { tr -d '\n' <"$(secret "$1" "$2")"; }

# A local CA and certificates for 127.0.0.1/localhost signed by it (the servers, a test client).
ensure_tls() {
    [[ -s "$TLS_DIR/server.pem" && -s "$TLS_DIR/client.pem" ]] && return 0
    command -v openssl >/dev/null 2>&1 || apt_install openssl
    mkdir -p "$TLS_DIR"
    chmod 700 "$SECRETS_DIR" "$TLS_DIR"
    log "making a local CA and certificates in $TLS_DIR (first start only)"
    (
        set -e
        umask 077
        cd "$TLS_DIR"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
            -subj "/CN=salesflow local CA" -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        for who in server client; do
            openssl req -newkey rsa:2048 -nodes -keyout "$who.key.tmp" -out "$who.csr" \
                -subj "/CN=salesflow-$who" 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
            openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
                -out "$who.crt" -days 825 -extfile "$who.ext" 2>/dev/null
            # PKCS#8: the form Kafka's PEM key store reads
            openssl pkcs8 -topk8 -nocrypt -in "$who.key.tmp" -out "$who.key"
            cat "$who.crt" "$who.key" >"$who.pem"
            rm -f "$who.key.tmp" "$who.csr" "$who.ext"
        done
        # the CA certificate is public; the rest stays its owner's
        chmod 644 ca.pem
    ) || die "could not make the local CA (openssl)"
}

write_env_file() {
    mkdir -p "$LOCAL"
    (umask 077 && cat >"$ENV_FILE" <<EOF
SALESFLOW_KAFKA_BOOTSTRAP=$(kafka_servers CLIENT)
SALESFLOW_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT
SALESFLOW_KAFKA_SASL_MECHANISM=SCRAM-SHA-512
SALESFLOW_KAFKA_SASL_USERNAME=admin
SALESFLOW_KAFKA_SASL_PASSWORD_FILE=$(secret kafka admin)
SALESFLOW_KAFKA_SSL_CAFILE=$TLS_DIR/ca.pem
SALESFLOW_KAFKA_TLS_BOOTSTRAP=$(kafka_servers TLS)
SALESFLOW_DATABASE_URL=postgresql+asyncpg://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB
SALESFLOW_DATABASE_PASSWORD_FILE=$(secret pg "$PG_USER")
SALESFLOW_SECRETS_DIR=$SECRETS_DIR
SALESFLOW_KAFKA_PORT=$KAFKA_BASE_PORT
SALESFLOW_KAFKA_TLS_PORT=$KAFKA_BASE_TLS_PORT
SALESFLOW_KAFKA_CONTROLLER_PORT=$KAFKA_BASE_CONTROLLER_PORT
SALESFLOW_KAFKA_BROKERS=$KAFKA_BROKERS
SALESFLOW_KAFKA_REPLICATION_FACTOR=$KAFKA_REPLICATION_FACTOR
SALESFLOW_PG_PORT=$PG_PORT
EOF
    )
}

print_endpoints() {
    write_env_file
    cat "$ENV_FILE"
}
