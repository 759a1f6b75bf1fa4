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
#   EMPORIUM_TEST_AMQP_PORT RabbitMQ AMQP port (default: the port DIR was first
#                           started with, else 55672)
#   EMPORIUM_TEST_AMQPS_PORT its TLS (amqps) port, with a private CA made
#                           under DIR/rabbitmq/tls (default: as first started,
#                           else the AMQP port minus one)
#   EMPORIUM_TEST_AMQP_DIST_PORT  its Erlang distribution port (default: as
#                           first started, else 55673)
#   EMPORIUM_TEST_EPMD_PORT its private epmd's port (default: as first started,
#                           else 54369)
#   EMPORIUM_RABBITMQ_BIN   RabbitMQ scripts (default /usr/lib/rabbitmq/bin)
#   EMPORIUM_TEST_REDIS_PORT  Redis port (default: the port DIR was first
#                           started with, else 56379)
#   EMPORIUM_TEST_SMTP_PORT maildev's SMTP port (default: the port DIR was
#                           first started with, else 51025)
#   EMPORIUM_TEST_MAILDEV_WEB_PORT  its web/REST port (default: as first
#                           started, else 51080)
#   EMPORIUM_MAILDEV_BIN    maildev (default node_modules/.bin/maildev of this
#                           checkout, installed by `npm ci`)
#   EMPORIUM_TEST_SERVICES  the servers to act on, a space-separated subset of
#                           SERVICES. Default: every server; but when the port
#                           variable of some servers is set (see PORT_VARS) and
#                           not of others, just those, so a test's private
#                           server starts alone in its own DIR.
#
# Layout of DIR:
#   DIR/.s.PGSQL.<port>     PostgreSQL unix socket
#   DIR/pg/data             PostgreSQL cluster;  DIR/pg/port  its port
#   DIR/pg/server.log       PostgreSQL log
#   DIR/rabbitmq/           RabbitMQ: HOME (Erlang cookie), mnesia/, log/,
#                           ports, server.pid, epmd.pid, server.out
#   DIR/redis/              Redis: port, redis.pid, server.log (no data files)
#   DIR/maildev/            maildev: ports, maildev.pid, server.log, mail/
#
# Adding a server (Redis, RabbitMQ, maildev): write <name>_start, <name>_stop
# and <name>_status functions taking DIR (start prints its exports), keep its
# files under DIR/<name>, append <name> to SERVICES and name its port
# variable in PORT_VARS. Start runs them in list order, stop in reverse.
set -euo pipefail

SERVICES=(postgres rabbitmq redis maildev)
declare -A PORT_VARS=([postgres]=EMPORIUM_TEST_PG_PORT [rabbitmq]=EMPORIUM_TEST_AMQP_PORT
  [redis]=EMPORIUM_TEST_REDIS_PORT [maildev]=EMPORIUM_TEST_SMTP_PORT)

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

# --- RabbitMQ 3.10 -----------------------------------------------------------
# Not through the /usr/sbin wrappers (they switch to the rabbitmq user and break
# on temp dirs): /usr/lib/rabbitmq/bin/rabbitmq-server directly, with HOME and
# every RABBITMQ_* path under DIR/rabbitmq. Everything listens on 127.0.0.1 only:
# AMQP, the node's distribution port, the CLI tools' distribution ports and a
# private epmd (started here, stopped by its PID; `-start_epmd false` keeps the
# Erlang VMs from starting a shared one of their own).

RABBIT_BIN=${EMPORIUM_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
RABBIT_NODE=rabbit@localhost

# Prints "AMQP DIST EPMD AMQPS": the environment, else what DIR was first
# started with, else the defaults (AMQPS: the AMQP port minus one).
rabbitmq_ports() {
  local dir=$1 amqp=55672 dist=55673 epmd=54369 amqps=
  if [ -s "$dir/rabbitmq/ports" ]; then
    read -r amqp dist epmd amqps <"$dir/rabbitmq/ports"
  fi
  amqp=${EMPORIUM_TEST_AMQP_PORT:-$amqp}
  echo "$amqp ${EMPORIUM_TEST_AMQP_DIST_PORT:-$dist} ${EMPORIUM_TEST_EPMD_PORT:-$epmd}" \
    "${EMPORIUM_TEST_AMQPS_PORT:-${amqps:-$((amqp - 1))}}"
}

# A private CA and a server certificate for localhost / 127.0.0.1 under
# DIR/rabbitmq/tls, made once: RabbitMQ's TLS listener uses them, and
# clients trust ca.pem (EMPORIUM_TEST_AMQP_CA_FILE).
rabbitmq_tls_files() {
  local tls=$1/rabbitmq/tls
  [ -s "$tls/server.pem" ] && return 0
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Emporium test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1 || die "openssl: cannot make the test CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1 ||
    die "openssl: cannot make the server key"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/san.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 30 -extfile "$tls/san.ext" -out "$tls/server.pem" >/dev/null 2>&1 ||
    die "openssl: cannot sign the server certificate"
  chmod 644 "$tls"/*.pem "$tls/server.key"
}

# Sets RABBIT_VARS to the environment (NAME=value words) of DIR's node.
rabbitmq_vars() {
  local dir=$1 amqp dist epmd amqps rd=$1/rabbitmq
  read -r amqp dist epmd amqps < <(rabbitmq_ports "$dir")
  local loopback='-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false'
  RABBIT_VARS=(
    HOME="$rd"
    RABBITMQ_NODENAME="$RABBIT_NODE"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$amqp"
    RABBITMQ_DIST_PORT="$dist"
    ERL_EPMD_ADDRESS=127.0.0.1
    ERL_EPMD_PORT="$epmd"
    RABBITMQ_MNESIA_BASE="$rd/mnesia"
    RABBITMQ_LOG_BASE="$rd/log"
    RABBITMQ_ENABLED_PLUGINS_FILE="$rd/enabled_plugins"
    RABBITMQ_CONFIG_FILE="$rd/rabbitmq"
    RABBITMQ_CONF_ENV_FILE="$rd/rabbitmq-env.conf"
    RABBITMQ_PID_FILE="$rd/rabbit.pid"
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="$loopback"
    RABBITMQ_CTL_ERL_ARGS="$loopback"
  )
}

rabbitmqctl_() {
  local dir=$1
  shift
  rabbitmq_vars "$dir"
  env "${RABBIT_VARS[@]}" "$RABBIT_BIN/rabbitmqctl" -n "$RABBIT_NODE" "$@"
}

# True when the process whose PID is in FILE runs (a zombie does not: without
# an init that reaps orphans, a server's exited parent stays one).
pid_alive() {
  local pid state
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

rabbitmq_running() { pid_alive "$1/rabbitmq/server.pid"; }

# Waits up to $2 seconds for the PID in FILE $1 to end.
wait_pid_gone() {
  local file=$1 i
  for ((i = 0; i < $2 * 10; i++)); do
    pid_alive "$file" || return 0
    sleep 0.1
  done
  return 1
}

rabbitmq_start() {
  local dir=$1 rd=$1/rabbitmq amqp dist epmd amqps i
  [ -x "$RABBIT_BIN/rabbitmq-server" ] ||
    die "no RabbitMQ in $RABBIT_BIN (run scripts/install-deps.sh)"
  read -r amqp dist epmd amqps < <(rabbitmq_ports "$dir")
  mkdir -p "$rd/mnesia" "$rd/log"
  rabbitmq_tls_files "$dir"
  if rabbitmq_running "$dir"; then
    log "rabbitmq: already running ($rd)"
  else
    log "rabbitmq: starting on 127.0.0.1:$amqp, TLS $amqps (distribution $dist, epmd $epmd)"
    echo "$amqp $dist $epmd $amqps" >"$rd/ports"
    echo '[].' >"$rd/enabled_plugins"
    : >"$rd/rabbitmq-env.conf"
    # Throw-away test data: no disk-space alarm on a nearly full /tmp.
    cat >"$rd/rabbitmq.conf" <<CONF
disk_free_limit.absolute = 1MB
log.console = false
log.file.level = warning
listeners.ssl.1 = 127.0.0.1:$amqps
ssl_options.cacertfile = $rd/tls/ca.pem
ssl_options.certfile = $rd/tls/server.pem
ssl_options.keyfile = $rd/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
    if ! pid_alive "$rd/epmd.pid"; then
      # 9>&- : no server may inherit this script's lock (nor its stdout).
      epmd -address 127.0.0.1 -port "$epmd" </dev/null >"$rd/epmd.log" 2>&1 9>&- &
      echo $! >"$rd/epmd.pid"
    fi
    rm -f "$rd/rabbit.pid"
    rabbitmq_vars "$dir"
    (exec env "${RABBIT_VARS[@]}" "$RABBIT_BIN/rabbitmq-server") \
      </dev/null >"$rd/server.out" 2>&1 9>&- &
    echo $! >"$rd/server.pid"
    # The CLI fails at once while the node is not yet known to epmd.
    for ((i = 0; i < 600; i++)); do
      rabbitmq_running "$dir" || break
      epmd -port "$epmd" -names 2>/dev/null | grep -q '^name rabbit ' && break
      sleep 0.1
    done
    if ! rabbitmq_running "$dir" ||
      ! rabbitmqctl_ "$dir" -q await_startup --timeout 60 >/dev/null 2>&1; then
      tail -n 20 "$rd/server.out" >&2 || true
      rabbitmq_stop "$dir"
      die "rabbitmq did not start (ports $amqp/$dist/$epmd taken?)"
    fi
  fi
  read -r amqp dist epmd amqps <"$rd/ports"
  print_export EMPORIUM_TEST_AMQP_URL "amqp://guest:guest@127.0.0.1:$amqp"
  print_export EMPORIUM_TEST_AMQPS_URL "amqps://guest:guest@localhost:$amqps"
  print_export EMPORIUM_TEST_AMQP_CA_FILE "$rd/tls/ca.pem"
}

rabbitmq_stop() {
  local dir=$1 rd=$1/rabbitmq
  [ -d "$rd" ] || return 0
  if rabbitmq_running "$dir"; then
    log "rabbitmq: stopping"
    # A clean shutdown (the node flushes its queues); else the wrapper's TERM
    # handler, then KILL.
    rabbitmqctl_ "$dir" -q shutdown --timeout 60 >/dev/null 2>&1 || true
    if pid_alive "$rd/rabbit.pid" && ! wait_pid_gone "$rd/rabbit.pid" 5; then
      kill -TERM "$(cat "$rd/server.pid")" 2>/dev/null || true
      wait_pid_gone "$rd/rabbit.pid" 30 || kill -KILL "$(cat "$rd/rabbit.pid")" 2>/dev/null || true
    fi
    wait_pid_gone "$rd/server.pid" 10 || kill -KILL "$(cat "$rd/server.pid")" 2>/dev/null || true
  fi
  if pid_alive "$rd/epmd.pid"; then
    kill -TERM "$(cat "$rd/epmd.pid")" 2>/dev/null || true
    wait_pid_gone "$rd/epmd.pid" 5 || true
  fi
  rm -f "$rd/server.pid" "$rd/epmd.pid" "$rd/rabbit.pid"
}

rabbitmq_status() {
  local dir=$1 amqp dist epmd
  rabbitmq_running "$dir" || return 1
  read -r amqp dist epmd _ <"$dir/rabbitmq/ports"
  # The AMQP listener accepts connections.
  (exec 3<>"/dev/tcp/127.0.0.1/$amqp") 2>/dev/null
}

# --- Redis 7 ---------------------------------------------------------------
# A cache: nothing persisted (--save '', no AOF), loopback only, its pid file
# and log under DIR/redis. Stopped by its PID (SIGTERM, then KILL).

redis_port() {
  local dir=$1
  if [ -n "${EMPORIUM_TEST_REDIS_PORT:-}" ]; then
    echo "$EMPORIUM_TEST_REDIS_PORT"
  elif [ -s "$dir/redis/port" ]; then
    cat "$dir/redis/port"
  else
    echo 56379
  fi
}

redis_running() { pid_alive "$1/redis/redis.pid"; }

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]; }

redis_start() {
  local dir=$1 rd=$1/redis port i
  command -v redis-server >/dev/null || die "no redis-server (run scripts/install-deps.sh)"
  port=$(redis_port "$dir")
  mkdir -p "$rd"
  if redis_running "$dir"; then
    log "redis: already running ($rd)"
  else
    log "redis: starting on 127.0.0.1:$port"
    echo "$port" >"$rd/port"
    rm -f "$rd/redis.pid"
    # 9>&- : the server must not inherit this script's lock.
    redis-server --port "$port" --bind 127.0.0.1 --dir "$rd" --save '' --appendonly no \
      --daemonize yes --pidfile "$rd/redis.pid" --logfile "$rd/server.log" \
      </dev/null >/dev/null 2>&1 9>&- || true
    for ((i = 0; i < 100; i++)); do
      redis_running "$dir" && redis_ping "$port" && break
      sleep 0.1
    done
    if ! redis_ping "$port" || ! redis_running "$dir"; then
      tail -n 20 "$rd/server.log" >&2 || true
      redis_stop "$dir"
      die "redis did not start (port $port taken?)"
    fi
  fi
  port=$(cat "$rd/port")
  print_export EMPORIUM_TEST_REDIS_URL "redis://127.0.0.1:$port"
}

redis_stop() {
  local dir=$1 rd=$1/redis
  [ -d "$rd" ] || return 0
  if redis_running "$dir"; then
    log "redis: stopping"
    # Redis removes its pid file before it has quite exited: wait on a copy.
    cp "$rd/redis.pid" "$rd/stopping.pid"
    kill -TERM "$(cat "$rd/stopping.pid")" 2>/dev/null || true
    wait_pid_gone "$rd/stopping.pid" 10 || kill -KILL "$(cat "$rd/stopping.pid")" 2>/dev/null || true
    wait_pid_gone "$rd/stopping.pid" 5 || true
  fi
  rm -f "$rd/redis.pid" "$rd/stopping.pid"
}

redis_status() {
  local dir=$1
  redis_running "$dir" && redis_ping "$(cat "$dir/redis/port")"
}

# --- maildev (npm) ------------------------------------------------------------
# An SMTP server that keeps what it receives and shows it over REST
# (GET /api/email, DELETE /api/email/all). SMTP and web on 127.0.0.1 only;
# messages under DIR/maildev/mail. Stopped by its PID (SIGTERM, then KILL).

MAILDEV_BIN=${EMPORIUM_MAILDEV_BIN:-$(cd "$(dirname "$0")/.." && pwd)/node_modules/.bin/maildev}

# Prints "SMTP WEB": the environment, else what DIR was first started with,
# else the defaults.
maildev_ports() {
  local dir=$1 smtp=51025 web=51080
  if [ -s "$dir/maildev/ports" ]; then
    read -r smtp web <"$dir/maildev/ports"
  fi
  echo "${EMPORIUM_TEST_SMTP_PORT:-$smtp} ${EMPORIUM_TEST_MAILDEV_WEB_PORT:-$web}"
}

maildev_running() { pid_alive "$1/maildev/maildev.pid"; }

maildev_answers() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/api/email"; }

maildev_start() {
  local dir=$1 md=$1/maildev smtp web i
  [ -x "$MAILDEV_BIN" ] || die "no maildev at $MAILDEV_BIN (run npm ci)"
  command -v node >/dev/null || die "no node (run scripts/install-deps.sh)"
  read -r smtp web < <(maildev_ports "$dir")
  mkdir -p "$md/mail"
  if maildev_running "$dir"; then
    log "maildev: already running ($md)"
  else
    log "maildev: starting, SMTP on 127.0.0.1:$smtp, web on 127.0.0.1:$web"
    echo "$smtp $web" >"$md/ports"
    rm -f "$md/maildev.pid"
    # 9>&- : the server must not inherit this script's lock.
    (exec "$MAILDEV_BIN" --smtp "$smtp" --ip 127.0.0.1 --web "$web" --web-ip 127.0.0.1 \
      --mail-directory "$md/mail") </dev/null >"$md/server.log" 2>&1 9>&- &
    echo $! >"$md/maildev.pid"
    for ((i = 0; i < 300; i++)); do
      maildev_running "$dir" || break
      maildev_answers "$web" && (exec 3<>"/dev/tcp/127.0.0.1/$smtp") 2>/dev/null && break
      sleep 0.1
    done
    if ! maildev_running "$dir" || ! maildev_answers "$web"; then
      tail -n 20 "$md/server.log" >&2 || true
      maildev_stop "$dir"
      die "maildev did not start (ports $smtp/$web taken?)"
    fi
  fi
  read -r smtp web <"$md/ports"
  print_export EMPORIUM_TEST_SMTP_URL "smtp://127.0.0.1:$smtp"
  print_export EMPORIUM_TEST_MAILDEV_URL "http://127.0.0.1:$web"
}

maildev_stop() {
  local dir=$1 md=$1/maildev
  [ -d "$md" ] || return 0
  if maildev_running "$dir"; then
    log "maildev: stopping"
    kill -TERM "$(cat "$md/maildev.pid")" 2>/dev/null || true
    wait_pid_gone "$md/maildev.pid" 10 || kill -KILL "$(cat "$md/maildev.pid")" 2>/dev/null || true
    wait_pid_gone "$md/maildev.pid" 5 || true
  fi
  rm -f "$md/maildev.pid"
}

maildev_status() {
  local dir=$1 smtp web
  maildev_running "$dir" || return 1
  read -r smtp web <"$dir/maildev/ports"
  maildev_answers "$web"
}

# --- verbs ----------------------------------------------------------------------

# Sets SELECTED to the servers to act on (see EMPORIUM_TEST_SERVICES).
select_services() {
  local s var
  SELECTED=()
  if [ -n "${EMPORIUM_TEST_SERVICES:-}" ]; then
    for s in $EMPORIUM_TEST_SERVICES; do
      [ -n "${PORT_VARS[$s]+x}" ] || die "EMPORIUM_TEST_SERVICES: unknown server '$s'"
    done
    for s in "${SERVICES[@]}"; do
      if [[ " $EMPORIUM_TEST_SERVICES " == *" $s "* ]]; then
        SELECTED+=("$s")
      fi
    done
    return 0
  fi
  for s in "${SERVICES[@]}"; do
    var=${PORT_VARS[$s]}
    if [ -n "${!var:-}" ]; then
      SELECTED+=("$s")
    fi
  done
  if [ "${#SELECTED[@]}" -eq 0 ]; then
    SELECTED=("${SERVICES[@]}")
  fi
}

start_all() {
  local dir=$1 s
  print_export EMPORIUM_TEST_SERVICES_DIR "$dir"
  for s in "${SELECTED[@]}"; do
    "${s}_start" "$dir"
  done
}

stop_all() {
  local dir=$1 i
  for ((i = ${#SELECTED[@]} - 1; i >= 0; i--)); do
    "${SELECTED[i]}_stop" "$dir"
  done
}

status_all() {
  local dir=$1 s rc=0
  for s in "${SELECTED[@]}"; do
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

select_services

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
