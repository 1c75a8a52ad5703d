#!/usr/bin/env bash
# The project's own PostgreSQL cluster as a local process (not the Debian service).
#
#   infra/postgres.sh start           initdb once, start, wait until it accepts connections,
#                                     ensure role/database salesflow exist, a role per service
#                                     owning its schema and a read-only reporting role
#   infra/postgres.sh stop            pg_ctl stop -m fast
#   infra/postgres.sh stop-immediate  pg_ctl stop -m immediate (crash simulation; next start
#                                     runs WAL recovery, committed data is kept)
#   infra/postgres.sh restart         stop + start
#   infra/postgres.sh status          exit 0 when accepting connections, 3 when stopped, 1 otherwise
#   infra/postgres.sh psql [args...]  psql as salesflow on the salesflow database
#
# Listens on 127.0.0.1:${SALESFLOW_PG_PORT:-5432} only. Data: .local/pg/data (override with
# SALESFLOW_PG_DATA), log: .local/pg/logs/postgres.log.
#
# Running as root: PostgreSQL refuses to run as root, so the server runs as the OS user
# ${SALESFLOW_PG_OS_USER:-postgres} (created as a system user when missing) and owns the data
# directory. That user must be able to traverse every parent directory of .local/pg; when it
# cannot (e.g. a checkout under /root), the missing search bit (o+x, never read) is added to
# those parents and each change is printed. Run as a normal user, the server runs as that user.
#
# If 127.0.0.1:<port> is taken by anything else (e.g. Debian's own cluster 15/main), start
# fails with a clear message instead of silently moving to another port: every tool reads the
# URL that up.sh prints, and a port that changes between runs would hide that mistake.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

START_TIMEOUT="${SALESFLOW_PG_START_TIMEOUT:-60}"
STOP_TIMEOUT="${SALESFLOW_PG_STOP_TIMEOUT:-60}"
PG_RUN="$PG_DIR/run"

# ---- binaries -------------------------------------------------------------------------
find_pg_bin() {
    if [[ -n "${SALESFLOW_PG_BIN:-}" ]]; then
        echo "$SALESFLOW_PG_BIN"
        return 0
    fi
    local d
    # newest major version first
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

ensure_pg_bin() {
    if ! PG_BIN="$(find_pg_bin)"; then
        apt_install postgresql
        PG_BIN="$(find_pg_bin)" || die "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"
        # The Debian package creates and may start its own 'main' cluster on 5432. We started
        # it (by installing), so we stop it again when it sits on our port.
        if command -v pg_lsclusters >/dev/null 2>&1; then
            local ver name port status
            while read -r ver name port status _; do
                if [[ "$port" == "$PG_PORT" && "$status" == online* ]]; then
                    log "stopping Debian's freshly installed cluster $ver/$name (it took port $PG_PORT)"
                    pg_ctlcluster "$ver" "$name" stop || true
                fi
            done < <(pg_lsclusters --no-header 2>/dev/null || true)
        fi
    fi
}

# ---- OS user --------------------------------------------------------------------------
if [[ $EUID -eq 0 ]]; then
    PG_OS_USER="${SALESFLOW_PG_OS_USER:-postgres}"
else
    PG_OS_USER="$(id -un)"
fi

ensure_os_user() {
    [[ $EUID -eq 0 ]] || return 0
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        log "creating system user $PG_OS_USER to run PostgreSQL"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
    fi
}

# run a command as the server's OS user, from / so an unreadable cwd does not matter
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

# PostgreSQL client tools (psql, pg_isready) from the server's bin dir, else from PATH
pgtool() {
    local t="$1"; shift
    if [[ -x "$PG_BIN/$t" ]]; then "$PG_BIN/$t" "$@"; else "$t" "$@"; fi
}

# ---- directories ----------------------------------------------------------------------
socket_dir() {
    # unix socket paths are limited to ~107 bytes
    if (( ${#PG_RUN} + 20 < 100 )); then echo "$PG_RUN"; else echo "/tmp"; fi
}

ensure_dirs() {
    mkdir -p "$PG_DIR" "$PG_DATA" "$PG_LOGS" "$PG_RUN"
    if [[ $EUID -eq 0 ]]; then
        local d
        for d in "$PG_DATA" "$PG_LOGS" "$PG_RUN"; do
            if [[ "$(stat -c %U "$d")" != "$PG_OS_USER" ]]; then
                chown -R "$PG_OS_USER:" "$d"
            fi
        done
        # every parent must be searchable by the server's user
        if ! as_pg test -w "$PG_DATA" 2>/dev/null; then
            local p="" part
            IFS='/' read -ra parts <<<"${PG_DATA#/}"
            for part in "${parts[@]}"; do
                p="$p/$part"
                [[ "$p" == "$PG_DATA" ]] && break
                if ! as_pg test -x "$p" 2>/dev/null; then
                    log "chmod o+x $p (so $PG_OS_USER can reach $PG_DATA)"
                    chmod o+x "$p"
                fi
            done
            as_pg test -w "$PG_DATA" 2>/dev/null \
                || die "$PG_OS_USER cannot write $PG_DATA; set SALESFLOW_PG_DATA to a directory it can reach"
        fi
    fi
    chmod 700 "$PG_DATA"
}

ensure_initdb() {
    [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
    if [[ -n "$(ls -A "$PG_DATA" 2>/dev/null)" ]]; then
        die "$PG_DATA is not empty but holds no cluster; refusing to initdb over it (use infra/down.sh --purge)"
    fi
    log "initdb $PG_DATA (superuser $PG_OS_USER, $("$PG_BIN/postgres" --version))"
    local out
    if ! out="$(as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_OS_USER" -E UTF8 --no-locale \
            --auth-local=peer --auth-host=scram-sha-256 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "initdb failed"
    fi
    # local socket: peer (the server's OS user = superuser); TCP: password only, loopback only
    as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by infra/postgres.sh
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  peer
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
EOF
    printf "\n# salesflow test-box settings, rewritten by infra/postgres.sh on every start\ninclude_if_exists = 'salesflow.conf'\n" \
        | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

write_conf() {
    as_pg tee "$PG_DATA/salesflow.conf" >/dev/null <<EOF
# Generated by infra/postgres.sh on every start; edit the script, not this file.
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$(socket_dir)'
max_connections = 200
shared_buffers = 256MB
fsync = on
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
# TLS with the local CA's certificate (clients may ask for sslmode=verify-full)
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
}

# the server's certificate, readable by the server's user only (PostgreSQL insists)
install_tls() {
    ensure_tls
    local f
    for f in server.crt server.key; do
        as_pg test -r "$PG_DATA/$f" 2>/dev/null && cmp -s "$TLS_DIR/$f" "$PG_DATA/$f" && continue
        install -m 600 "$TLS_DIR/$f" "$PG_DATA/$f"
        if [[ $EUID -eq 0 ]]; then chown "$PG_OS_USER:" "$PG_DATA/$f"; fi
    done
}

# ---- server ---------------------------------------------------------------------------
server_running() {
    [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
    as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

superuser_psql() {
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(socket_dir)" -p "$PG_PORT" -d postgres
}

ensure_role_and_db() {
    local password
    password="$(secret_value pg "$PG_USER")"
    superuser_psql <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE $PG_USER PASSWORD '$password';
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
EOF
    # A role per service owning its schema, and the reporting role (shared/db_roles.py); each
    # password in .local/secrets/pg/<role>.
    local role
    for role in $(repo_python -m shared.db_roles names); do secret pg "$role" >/dev/null; done
    repo_python -m shared.db_roles sql "$SECRETS_DIR/pg" "$PG_USER" \
        | as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(socket_dir)" -p "$PG_PORT" -d "$PG_DB" \
        || die "could not set up the database roles"
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    until pgtool pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; do
        if ((SECONDS >= deadline)); then
            show_tail "$PG_LOG_FILE" 40
            die "PostgreSQL did not accept connections on $PG_HOST:$PG_PORT within ${START_TIMEOUT}s"
        fi
        sleep 0.5
    done
}

cmd_start() {
    ensure_pg_bin
    ensure_os_user
    ensure_dirs
    if server_running; then
        local running_port
        running_port="$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
        if [[ -n "$running_port" && "$running_port" != "$PG_PORT" ]]; then
            die "our cluster is already running on port $running_port, not $PG_PORT; run infra/postgres.sh stop first"
        fi
        log "postgres already running on $PG_HOST:$PG_PORT (data $PG_DATA)"
        return 0
    fi
    if port_open "$PG_HOST" "$PG_PORT"; then
        die "port $PG_HOST:$PG_PORT is already in use by another process (Debian's postgresql service? see 'pg_lsclusters', stop it with 'pg_ctlcluster <ver> main stop'), or choose another port: SALESFLOW_PG_PORT=5433 infra/up.sh"
    fi
    ensure_initdb
    install_tls
    write_conf
    local t0=$SECONDS
    echo "==== $(date -Is) infra/postgres.sh start" | as_pg tee -a "$PG_LOG_FILE" >/dev/null
    if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG_FILE" -w -t "$START_TIMEOUT" -s >/dev/null 2>&1; then
        show_tail "$PG_LOG_FILE" 40
        die "pg_ctl start failed (log: $PG_LOG_FILE)"
    fi
    wait_ready
    ensure_role_and_db
    log "postgres $("$PG_BIN/postgres" --version | awk '{print $3}') up on $PG_HOST:$PG_PORT in $((SECONDS - t0))s"
}

cmd_stop() {
    local mode="$1"
    if ! PG_BIN="$(find_pg_bin)" || ! server_running; then
        log "postgres not running"
        return 0
    fi
    if ! as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m "$mode" -w -t "$STOP_TIMEOUT" -s; then
        show_tail "$PG_LOG_FILE" 20
        die "pg_ctl stop -m $mode failed"
    fi
    log "postgres stopped (-m $mode)"
}

cmd_status() {
    if ! PG_BIN="$(find_pg_bin)" || ! server_running; then
        echo "postgres: stopped"
        return 3
    fi
    if pgtool pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; then
        echo "postgres: running on $PG_HOST:$PG_PORT (data $PG_DATA)"
        return 0
    fi
    echo "postgres: server process present but not accepting connections on $PG_HOST:$PG_PORT"
    return 1
}

case "${1:-}" in
    start)          cmd_start ;;
    stop)           cmd_stop fast ;;
    stop-immediate) cmd_stop immediate ;;
    restart)        cmd_stop fast; cmd_start ;;
    status)         cmd_status ;;
    psql)
        shift
        PG_BIN="$(find_pg_bin)" || PG_BIN=/nonexistent
        PGPASSWORD="$(secret_value pg "$PG_USER")" pgtool psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" "$@"
        ;;
    *)
        echo "usage: $0 {start|stop|stop-immediate|restart|status|psql [args...]}" >&2
        exit 2
        ;;
esac
