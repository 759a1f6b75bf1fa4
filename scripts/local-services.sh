#!/usr/bin/env bash
# Starts and stops the servers the integration tests talk to, on loopback only,
# with every file under one directory. No systemd: each server is started and
# stopped by its own tools. Works as root (servers run as their own users) and
# as an ordinary user.
#
#   scripts/local-services.sh start   DIR   # idempotent; prints `export ...` lines
#   scripts/local-services.sh stop    DIR   # stops what runs from DIR
#   scripts/local-services.sh restart DIR   # stop + start, same ports and data
#   scripts/local-services.sh status  DIR   # exit 0 when everything runs
#
# Typical use:  eval "$(scripts/local-services.sh start /tmp/emporium-services)"
#
# stdout carries only the `export NAME=value` lines (so `eval` works); progress
# and errors go to stderr.
#
# Environment:
#   EMPORIUM_TEST_PG_PORT   PostgreSQL port (default: the port DIR was first
#                           started with, else 55432)
#   EMPORIUM_PG_BIN         PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#
# Layout of DIR:
#   DIR/.s.PGSQL.<port>     PostgreSQL unix socket
#   DIR/pg/data             PostgreSQL cluster;  DIR/pg/port  its port
#   DIR/pg/server.log       PostgreSQL log
#
# Adding a server (Redis, RabbitMQ, maildev): write <name>_start, <name>_stop
# and <name>_status functions taking DIR (start prints its exports), keep its
# files under DIR/<name>, and append <name> to SERVICES. Start runs them in
# list order, stop in reverse.
set -euo pipefail

SERVICES=(postgres)  # later: redis rabbitmq maildev

log() { echo "local-services: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as USER when we are root, else as ourselves.
as_user() {
  local user=$1
  shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

print_export() { printf 'export %s=%q\n' "$1" "$2"; }

# --- PostgreSQL 15 ----------------------------------------------------------

PG_BIN=${EMPORIUM_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_USER=postgres
PG_DB=emporium_test

pg_port() {
  local dir=$1
  if [ -n "${EMPORIUM_TEST_PG_PORT:-}" ]; then
    echo "$EMPORIUM_TEST_PG_PORT"
  elif [ -s "$dir/pg/port" ]; then
    cat "$dir/pg/port"
  else
    echo 55432
  fi
}

pg_ctl_() { as_user "$PG_USER" "$PG_BIN/pg_ctl" "$@"; }

pg_running() { pg_ctl_ -D "$1/pg/data" status >/dev/null 2>&1; }

pg_psql() {
  local dir=$1 port=$2
  shift 2
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}

pg_init() {
  local dir=$1
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 in $PG_BIN (run scripts/install-deps.sh)"
  if is_root; then
    id "$PG_USER" >/dev/null 2>&1 || die "no '$PG_USER' user (install postgresql-15)"
    # The server writes its socket into DIR and its cluster into DIR/pg.
    chown "$PG_USER" "$dir"
    install -d -o "$PG_USER" "$dir/pg"
    runuser -u "$PG_USER" -- test -w "$dir" ||
      die "user $PG_USER cannot reach $dir: every parent directory needs o+x"
  else
    mkdir -p "$dir/pg"
  fi
  if [ ! -s "$dir/pg/data/PG_VERSION" ]; then
    log "postgres: initdb $dir/pg/data"
    as_user "$PG_USER" "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres --auth=trust -E UTF8 \
      --no-locale >"$dir/pg/initdb.log" 2>&1 || {
      cat "$dir/pg/initdb.log" >&2
      die "initdb failed"
    }
    # Throw-away test data: durability off, loopback and the socket in DIR.
    cat >>"$dir/pg/data/postgresql.conf" <<EOF

# local-services.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  fi
}

postgres_start() {
  local dir=$1 port
  port=$(pg_port "$dir")
  pg_init "$dir"
  if pg_running "$dir"; then
    log "postgres: already running ($dir/pg/data)"
  else
    log "postgres: starting on 127.0.0.1:$port"
    echo "$port" >"$dir/pg/port"
    # 9>&- : the server must not inherit this script's lock.
    pg_ctl_ -D "$dir/pg/data" -l "$dir/pg/server.log" -o "-p $port" -w -t 60 start \
      >/dev/null 9>&- || {
      tail -n 20 "$dir/pg/server.log" >&2 || true
      die "postgres did not start (port $port taken?)"
    }
  fi
  port=$(cat "$dir/pg/port")
  if [ "$(pg_psql "$dir" "$port" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
    pg_psql "$dir" "$port" -d postgres -c "CREATE DATABASE $PG_DB" ||
      die "cannot create database $PG_DB"
  fi
  print_export EMPORIUM_TEST_DATABASE_URL "postgres://postgres@127.0.0.1:$port/$PG_DB"
}

postgres_stop() {
  local dir=$1
  if [ -d "$dir/pg/data" ] && pg_running "$dir"; then
    log "postgres: stopping"
    pg_ctl_ -D "$dir/pg/data" -m fast -w -t 60 stop >/dev/null
  fi
}

postgres_status() {
  local dir=$1
  pg_running "$dir"
}

# --- later: redis_start/redis_stop/redis_status, rabbitmq_*, maildev_* --------

# --- verbs ----------------------------------------------------------------------

start_all() {
  local dir=$1 s
  print_export EMPORIUM_TEST_SERVICES_DIR "$dir"
  for s in "${SERVICES[@]}"; do
    "${s}_start" "$dir"
  done
}

stop_all() {
  local dir=$1 i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    "${SERVICES[i]}_stop" "$dir"
  done
}

status_all() {
  local dir=$1 s rc=0
  for s in "${SERVICES[@]}"; do
    if "${s}_status" "$dir"; then
      log "$s: running"
    else
      log "$s: stopped"
      rc=1
    fi
  done
  return $rc
}

usage() { die "usage: $0 start|stop|restart|status DIR"; }

[ $# -eq 2 ] || usage
verb=$1
case $verb in
  start | restart) mkdir -p "$2" ;;
  stop | status) [ -d "$2" ] || { log "$2: nothing there"; [ "$verb" = stop ]; exit; } ;;
  *) usage ;;
esac
dir=$(cd "$2" && pwd -P)
# A unix socket path (DIR/.s.PGSQL.NNNNN) must fit in 107 bytes.
[ "${#dir}" -le 88 ] || die "DIR path too long for a unix socket: $dir"

# One invocation at a time per DIR (parallel test set-ups may race).
exec 9>"$dir/.local-services.lock"
flock 9

case $verb in
  start) start_all "$dir" ;;
  stop) stop_all "$dir" ;;
  restart)
    stop_all "$dir"
    start_all "$dir"
    ;;
  status) status_all "$dir" ;;
  *) usage ;;
esac
