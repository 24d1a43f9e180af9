#!/usr/bin/env bash
# One-command local run of company chat: builds what is missing or older than its sources, makes sure the database
# exists (starting an embedded PostgreSQL when none answers locally), starts the four
# services, waits until they are ready and stops everything again on Ctrl-C / SIGTERM.
# See deploy/local/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deploy/local/run.sh [--build]
  --build   run "./mvnw -B -q package -DskipTests" even if the jars exist and are newer than their sources
Environment: PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD (defaults localhost 5432 chat
postgres ""), GATEWAY_HOST (address the gateway listens on, 127.0.0.1; 0.0.0.0 to let other
machines in), GATEWAY_MANAGEMENT_PORT (9000), READY_TIMEOUT (seconds, 90),
AUTH_SIGNING_KEY_LOCATION and INTERNAL_SERVICE_TOKEN (default: kept in deploy/local/.keys),
CHAT_REPLICAS (chat-service replicas on ports 8083, 8084, ..., 1 to 9; default 1: the gateway
spreads requests and sockets over them), CHAT_BUS (postgres, the default, or nats: how the
replicas pass live events) and NATS_URL (nats://127.0.0.1:4222, with CHAT_BUS=nats).
The services, their /internal/* routes, the gateway's health port and the mail page (which shows
generated passwords) listen on 127.0.0.1 only.
Logs: deploy/local/.logs/. Embedded database: deploy/local/.data/postgres. See README.md.
EOF
}

FORCE_BUILD=0
for arg in "$@"; do
  case "$arg" in
    --build) FORCE_BUILD=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
# The JVM options the deploy manifests give each service (heap from the pod's memory limit, Serial GC).
. "$ROOT/deploy/local/jvm-options.sh"
LOG_DIR="$SCRIPT_DIR/.logs"
DATA_DIR="$SCRIPT_DIR/.data/postgres"
LAUNCHER_JAR="$SCRIPT_DIR/embedded-postgres/target/embedded-postgres-launcher.jar"

export PGHOST="${PGHOST:-localhost}"
export PGPORT="${PGPORT:-5432}"
export PGDATABASE="${PGDATABASE:-chat}"
export PGUSER="${PGUSER:-postgres}"
export PGPASSWORD="${PGPASSWORD:-}"
GATEWAY_MANAGEMENT_PORT="${GATEWAY_MANAGEMENT_PORT:-9000}"
READY_TIMEOUT="${READY_TIMEOUT:-90}"
# Everything listens on loopback only: the services (and their /internal/* routes, health and
# metrics) are reached through the gateway, and the gateway itself only from this machine unless
# GATEWAY_HOST says otherwise (e.g. 0.0.0.0 to try it from a phone on the LAN).
LOOPBACK=127.0.0.1
GATEWAY_HOST="${GATEWAY_HOST:-$LOOPBACK}"

CHAT_REPLICAS="${CHAT_REPLICAS:-1}"
[[ "$CHAT_REPLICAS" =~ ^[1-9]$ ]] || { echo "CHAT_REPLICAS must be 1 to 9, got '$CHAT_REPLICAS'" >&2; exit 2; }
export CHAT_BUS="${CHAT_BUS:-postgres}"
case "$CHAT_BUS" in postgres | nats) ;; *) echo "CHAT_BUS must be postgres or nats, got '$CHAT_BUS'" >&2; exit 2 ;; esac
export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"

# name, module, HTTP port and readiness port of each process, in start order
SERVICES=(user-service auth-service)
MODULES=(user-service auth-service)
HTTP_PORTS=(8081 8082)
HEALTH_PORTS=(8081 8082)
LISTEN_HOSTS=("$LOOPBACK" "$LOOPBACK")
CHAT_URLS=()
for ((r = 1; r <= CHAT_REPLICAS; r++)); do
  port=$((8082 + r))
  if [ "$r" = 1 ]; then SERVICES+=(chat-service); else SERVICES+=("chat-service-$r"); fi
  MODULES+=(chat-service)
  HTTP_PORTS+=("$port")
  HEALTH_PORTS+=("$port")
  LISTEN_HOSTS+=("$LOOPBACK")
  CHAT_URLS+=("http://$LOOPBACK:$port")
done
SERVICES+=(gateway)
MODULES+=(gateway)
HTTP_PORTS+=(8080)
HEALTH_PORTS+=("$GATEWAY_MANAGEMENT_PORT")
LISTEN_HOSTS+=("$GATEWAY_HOST")
case "$GATEWAY_HOST" in
  0.0.0.0 | :: | "[::]") GATEWAY_URL="http://localhost:8080 (and every address of this machine)" ;;
  *:*) GATEWAY_URL="http://[$GATEWAY_HOST]:8080" ;;
  *) GATEWAY_URL="http://$GATEWAY_HOST:8080" ;;
esac

export USER_SERVICE_URL="http://$LOOPBACK:8081"
export AUTH_SERVICE_URL="http://$LOOPBACK:8082"
# the gateway's chat-service: every replica, in turn
CHAT_SERVICE_URL=$(IFS=,; echo "${CHAT_URLS[*]}")
export CHAT_SERVICE_URL

# ------------------------------------------------------------------ helpers

fail() { # one clear line, then the EXIT trap stops whatever was started
  echo "$*" >&2
  exit 1
}

# 0 if something accepts a TCP connection at host:port within ~2 s (bash /dev/tcp, no tools)
tcp_open() {
  local pid i
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null &
  pid=$!
  for ((i = 0; i < 20; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid"
      return
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

# prints who listens on a TCP port (e.g. ' (java, pid 1234)') when ss can tell
port_owner() {
  local line
  command -v ss >/dev/null 2>&1 || return 0
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1) || return 0
  if [[ "$line" =~ \(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    printf ' (%s, pid %s)' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  fi
}

port_in_use() {
  local out
  if command -v ss >/dev/null 2>&1 && out=$(ss -Hltn "sport = :$1" 2>/dev/null); then
    [ -n "$out" ] && return 0
  fi
  tcp_open 127.0.0.1 "$1"
}

# 0 if GET http://127.0.0.1:<port><path> answers 200 (curl if present, else bash /dev/tcp)
http_ok() {
  local port=$1 path=$2 status
  if command -v curl >/dev/null 2>&1; then
    status=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null) || return 1
  else
    # shellcheck disable=SC2016  # the inner script expands its own arguments
    status=$(bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "GET %s HTTP/1.0\r\nHost: localhost:%s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
      read -r -t 2 _ code _ <&3 || exit 1
      printf %s "$code"' _ "$port" "$path" 2>/dev/null) || return 1
  fi
  [ "$status" = 200 ]
}

alive() { kill -0 "$1" 2>/dev/null; }

# ------------------------------------------------------------------ process bookkeeping

PIDS=()       # services, in start order
NAMES=()
PG_PID=""     # embedded PostgreSQL launcher, stopped last
CLEANING=0

# TERM the given pids, wait up to $1 seconds, then KILL what is left; reap them all
stop_pids() {
  local grace=$1 pid waited=0 left
  shift
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  while :; do
    left=0
    for pid in "$@"; do alive "$pid" && left=1; done
    [ "$left" = 0 ] && break
    if [ "$waited" -ge $((grace * 10)) ]; then
      for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# last resort: if the launcher could not stop its postmaster (it was killed), do it here
stop_orphan_postmaster() {
  local pid_file="$DATA_DIR/postmaster.pid" pm i
  [ -f "$pid_file" ] || return 0
  pm=$(head -n 1 "$pid_file" 2>/dev/null) || return 0
  [[ "$pm" =~ ^[0-9]+$ ]] || return 0
  alive "$pm" || return 0
  [[ "$(ps -p "$pm" -o comm= 2>/dev/null)" == *postgres* ]] || return 0
  kill -INT "$pm" 2>/dev/null || true # PostgreSQL "fast" shutdown
  for ((i = 0; i < 100; i++)); do alive "$pm" || return 0; sleep 0.1; done
  kill -QUIT "$pm" 2>/dev/null || true # "immediate" shutdown
}

cleanup() {
  local rc=$? i pids=()
  [ "$CLEANING" = 1 ] && return
  CLEANING=1
  trap '' INT TERM HUP # a second Ctrl-C must not leave half the processes running
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    alive "${PIDS[$i]}" && pids+=("${PIDS[$i]}")
  done
  if [ "${#pids[@]}" -gt 0 ] || [ -n "$PG_PID" ]; then
    echo "stopping ..."
  fi
  if [ "${#pids[@]}" -gt 0 ]; then
    stop_pids 15 "${pids[@]}"
  fi
  if [ -n "$PG_PID" ]; then
    stop_pids 20 "$PG_PID"
    stop_orphan_postmaster
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------ checks

command -v java >/dev/null 2>&1 || fail "java not found: install a JDK 17 or newer (or put it on PATH)"
java_version=$(java -version 2>&1 | awk -F'"' '/version/ { print $2; exit }') || true
java_major=${java_version#1.}         # 1.8.0_292 -> 8.0_292
java_major=${java_major%%[!0-9]*}     # 17.0.15 -> 17, 21-ea -> 21
if [ -n "$java_major" ] && [ "$java_major" -lt 17 ]; then
  fail "java $java_version found, but company chat needs Java 17 or newer"
fi

MANAGEMENT_PORTS=("$GATEWAY_MANAGEMENT_PORT")
for i in "${!SERVICES[@]}"; do
  [ "${SERVICES[$i]}" = gateway ] || MANAGEMENT_PORTS+=("$((HTTP_PORTS[i] + 1000))")
done
for port in "${HTTP_PORTS[@]}" "${MANAGEMENT_PORTS[@]}"; do
  if port_in_use "$port"; then
    fail "port $port is already in use$(port_owner "$port"); stop that process and run again"
  fi
done

mkdir -p "$LOG_DIR"

# ------------------------------------------------------------------ build what is missing

missing=()
stale=()
for svc in user-service auth-service chat-service gateway; do
  jar=$ROOT/$svc/target/quarkus-app/quarkus-run.jar
  if [ ! -f "$jar" ]; then
    missing+=("$svc")
  # a jar older than its sources, common's (the schema's migrations among them) or a pom: after a pull, say
  elif [ -n "$(find "$ROOT/$svc/src/main" "$ROOT/$svc/pom.xml" "$ROOT/common/src/main" "$ROOT/common/pom.xml" \
      "$ROOT/pom.xml" -newer "$jar" -type f -print -quit 2>/dev/null)" ]; then
    stale+=("$svc")
  fi
done
[ -f "$LAUNCHER_JAR" ] || missing+=("embedded-postgres-launcher")
if [ "$FORCE_BUILD" = 1 ] || [ "${#missing[@]}" -gt 0 ] || [ "${#stale[@]}" -gt 0 ]; then
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "building first (missing: ${missing[*]}); log: $LOG_DIR/build.log"
  elif [ "${#stale[@]}" -gt 0 ]; then
    echo "building first (older than their sources: ${stale[*]}); log: $LOG_DIR/build.log"
  else
    echo "building first; log: $LOG_DIR/build.log"
  fi
  (cd "$ROOT" && ./mvnw -B -q package -DskipTests) >"$LOG_DIR/build.log" 2>&1 \
    || fail "build failed; see $LOG_DIR/build.log"
  for svc in user-service auth-service chat-service gateway; do
    [ -f "$ROOT/$svc/target/quarkus-app/quarkus-run.jar" ] \
      || fail "the build did not produce $svc/target/quarkus-app/quarkus-run.jar; see $LOG_DIR/build.log"
  done
  [ -f "$LAUNCHER_JAR" ] || fail "the build did not produce $LAUNCHER_JAR; see $LOG_DIR/build.log"
fi

# ------------------------------------------------------------------ database

case "$PGHOST" in
  /*) fail "PGHOST=$PGHOST is a socket directory; the services connect over TCP: set PGHOST to a host name" ;;
esac

EMBEDDED=0
if ! tcp_open "$PGHOST" "$PGPORT"; then
  case "$PGHOST" in
    localhost | 127.0.0.1 | ::1) EMBEDDED=1 ;;
    *) fail "no PostgreSQL answers at $PGHOST:$PGPORT (an embedded one is started only for localhost)" ;;
  esac
fi

if [ "$EMBEDDED" = 1 ]; then
  export PGHOST=127.0.0.1
  pg_log="$LOG_DIR/postgres.log"
  mkdir -p "$DATA_DIR"
  java -jar "$LAUNCHER_JAR" serve --data-dir "$DATA_DIR" --port "$PGPORT" >"$pg_log" 2>&1 &
  PG_PID=$!
  deadline=$((SECONDS + READY_TIMEOUT))
  until grep -q '^embedded PostgreSQL ready' "$pg_log" 2>/dev/null; do
    alive "$PG_PID" || fail "embedded PostgreSQL failed to start; see $pg_log"
    [ "$SECONDS" -lt "$deadline" ] || fail "embedded PostgreSQL failed to start (not ready after ${READY_TIMEOUT} s); see $pg_log"
    sleep 0.2
  done
  echo "database: embedded PostgreSQL at $PGHOST:$PGPORT (data in $DATA_DIR)"
  if [ "$PGUSER" = postgres ]; then
    db_args=(--user postgres)
  else # the embedded server only has the superuser "postgres" (trust authentication)
    db_args=(--user postgres --owner "$PGUSER")
  fi
else
  echo "database: PostgreSQL at $PGHOST:$PGPORT"
  db_args=(--user "$PGUSER")
fi

# the password travels in PGPASSWORD (inherited), not on the command line
if ! db_out=$(java -jar "$LAUNCHER_JAR" ensure-database --host "$PGHOST" --port "$PGPORT" \
  "${db_args[@]}" --database "$PGDATABASE" 2>&1); then
  fail "$(printf '%s' "$db_out" | tail -n 1)"
fi
echo "database: $(printf '%s\n' "$db_out" | tail -n 1)"

# ------------------------------------------------------------------ secrets (git-ignored .keys/)

# The services run in prod mode: auth-service needs a persistent RSA signing key (see
# auth-service/README.md, "Keys"; kept so that tokens stay valid across restarts) and every
# service the shared INTERNAL_SERVICE_TOKEN for /internal/* calls. Values set in the
# environment win.
KEY_DIR="$SCRIPT_DIR/.keys"
if [ -z "${AUTH_SIGNING_KEY_LOCATION:-}" ]; then
  key_file="$KEY_DIR/signing-key.pem"
  if [ ! -f "$key_file" ]; then
    key_out=$(java -jar "$LAUNCHER_JAR" signing-key --out "$key_file" 2>&1) || fail "$key_out"
    echo "$key_out"
  fi
  export AUTH_SIGNING_KEY_LOCATION="$key_file"
fi
if [ -z "${INTERNAL_SERVICE_TOKEN:-}" ]; then
  token_file="$KEY_DIR/internal-service-token"
  if [ ! -s "$token_file" ]; then
    mkdir -p "$KEY_DIR"
    (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$token_file") \
      || fail "cannot create $token_file"
  fi
  INTERNAL_SERVICE_TOKEN=$(cat "$token_file")
  export INTERNAL_SERVICE_TOKEN
fi

# ------------------------------------------------------------------ mail

# Without an SMTP server of your own, welcome mails stay in user-service's mock mailer and can
# be read on its dev page; with QUARKUS_MAILER_HOST set, real SMTP is used.
if [ -z "${QUARKUS_MAILER_HOST:-}" ]; then
  export QUARKUS_MAILER_MOCK=true CHAT_DEV_MAIL_PAGE_ENABLED=true
  MAIL_PAGE="http://$LOOPBACK:${HTTP_PORTS[0]}/dev/sent-mails (from this machine only)"
else
  export QUARKUS_MAILER_MOCK=${QUARKUS_MAILER_MOCK:-false}
  MAIL_PAGE=""
fi

# ------------------------------------------------------------------ live-event bus

if [ "$CHAT_BUS" = nats ]; then
  nats_address=${NATS_URL#nats://}
  nats_address=${nats_address%%,*}
  nats_address=${nats_address##*@}
  tcp_open "${nats_address%:*}" "${nats_address##*:}" \
    || fail "CHAT_BUS=nats, but no NATS answers at $NATS_URL (start one: nats-server -a 127.0.0.1 -p 4222)"
  echo "live events: NATS at $NATS_URL ($CHAT_REPLICAS chat-service replica(s))"
else
  echo "live events: PostgreSQL LISTEN/NOTIFY ($CHAT_REPLICAS chat-service replica(s))"
fi

# ------------------------------------------------------------------ services

for i in "${!SERVICES[@]}"; do
  svc=${SERVICES[$i]}
  module=${MODULES[$i]}
  # Metrics on the management port, on loopback only: the gateway's GATEWAY_MANAGEMENT_PORT, a service's HTTP port
  # + 1000 (9081, 9082, 9083, ... as deployed). Logs plain, not the prod profile's JSON.
  if [ "$svc" = gateway ]; then
    extra=("QUARKUS_MANAGEMENT_PORT=$GATEWAY_MANAGEMENT_PORT" "QUARKUS_MANAGEMENT_HOST=$LOOPBACK")
  else
    extra=("QUARKUS_MANAGEMENT_PORT=$((HTTP_PORTS[i] + 1000))" "QUARKUS_MANAGEMENT_HOST=$LOOPBACK")
  fi
  extra+=("QUARKUS_LOG_CONSOLE_JSON_ENABLED=false")
  # shellcheck disable=SC2046  # one option per word
  env QUARKUS_HTTP_PORT="${HTTP_PORTS[$i]}" QUARKUS_HTTP_HOST="${LISTEN_HOSTS[$i]}" ${extra[@]+"${extra[@]}"} \
    java $(jvm_options "$module") -jar "$ROOT/$module/target/quarkus-app/quarkus-run.jar" >"$LOG_DIR/$svc.log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$svc")
done
echo "starting ${SERVICES[*]} (logs in $LOG_DIR) ..."

ready=()
for i in "${!SERVICES[@]}"; do ready+=(0); done
deadline=$((SECONDS + READY_TIMEOUT))
while :; do
  pending=0
  for i in "${!SERVICES[@]}"; do
    [ "${ready[$i]}" = 1 ] && continue
    if ! alive "${PIDS[$i]}"; then
      status=0
      wait "${PIDS[$i]}" 2>/dev/null || status=$?
      fail "${NAMES[$i]} failed to start (exit status $status); see $LOG_DIR/${NAMES[$i]}.log"
    fi
    if http_ok "${HEALTH_PORTS[$i]}" /q/health/ready; then
      ready[i]=1
    else
      pending=1
    fi
  done
  [ "$pending" = 0 ] && break
  if [ -n "$PG_PID" ] && ! alive "$PG_PID"; then
    fail "embedded PostgreSQL stopped; see $LOG_DIR/postgres.log"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    for i in "${!SERVICES[@]}"; do
      [ "${ready[$i]}" = 1 ] && continue
      fail "${NAMES[$i]} failed to start (not ready after ${READY_TIMEOUT} s); see $LOG_DIR/${NAMES[$i]}.log"
    done
  fi
  sleep 1
done

echo "company chat is running: $GATEWAY_URL"
if [ -n "$MAIL_PAGE" ]; then
  echo "welcome mails (mock mailer, no SMTP configured): $MAIL_PAGE"
else
  echo "welcome mails go to SMTP at $QUARKUS_MAILER_HOST:${QUARKUS_MAILER_PORT:-25}"
fi
echo "press Ctrl-C to stop"

# ------------------------------------------------------------------ run until stopped

while :; do
  for i in "${!PIDS[@]}"; do
    if ! alive "${PIDS[$i]}"; then
      fail "${NAMES[$i]} stopped unexpectedly; see $LOG_DIR/${NAMES[$i]}.log"
    fi
  done
  if [ -n "$PG_PID" ] && ! alive "$PG_PID"; then
    fail "embedded PostgreSQL stopped unexpectedly; see $LOG_DIR/postgres.log"
  fi
  sleep 1
done
