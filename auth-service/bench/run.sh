#!/usr/bin/env bash
# Login benchmark: starts auth-service (the packaged jar, prod profile) on a throw-away database with a
# throw-away signing key, in front of either the user-service stand-in (no hashing: auth-service's own cost)
# or the real user-service jar (bcrypt included), runs LoginBench and stops everything it started.
# See auth-service/README.md, "Benchmark".
set -euo pipefail

usage() {
  cat <<'EOF'
usage: auth-service/bench/run.sh [--user-service stand-in|real] [--concurrency N] [--seconds S] [--warmup S]
One user per concurrent client (default 8).
Needs the packaged jars (./mvnw -B -q -f auth-service/pom.xml package -DskipTests, and for "real" the same for
user-service), psql, openssl, curl, and PostgreSQL at PGHOST/PGPORT (defaults localhost:5432, user postgres).
KEEP_LOGS=<dir> keeps the services' logs there.
EOF
}

MODE=stand-in
CONCURRENCY=8
SECONDS_MEASURED=20
WARMUP=10
while [ $# -gt 0 ]; do
  case "$1" in
    --user-service) MODE=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --seconds) SECONDS_MEASURED=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$MODE" in stand-in|real) ;; *) echo "--user-service must be stand-in or real" >&2; exit 2 ;; esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH=$ROOT/auth-service/bench
AUTH_JAR=$ROOT/auth-service/target/quarkus-app/quarkus-run.jar
USER_JAR=$ROOT/user-service/target/quarkus-app/quarkus-run.jar
AUTH_PORT=${AUTH_PORT:-18082}
USER_PORT=${USER_PORT:-18081}
export PGHOST=${PGHOST:-localhost} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGPASSWORD=${PGPASSWORD:-}
DB=chat_bench_$$
WORK=$(mktemp -d)
PIDS=()

[ -f "$AUTH_JAR" ] || { echo "missing $AUTH_JAR: package auth-service first" >&2; exit 1; }
[ "$MODE" = stand-in ] || [ -f "$USER_JAR" ] || { echo "missing $USER_JAR: package user-service first" >&2; exit 1; }

cleanup() {
  if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$WORK"/*.log "$KEEP_LOGS"/ 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The services run with their Deployments' JVM options, as in the local run.
# shellcheck source=../../deploy/local/jvm-options.sh
. "$BENCH/../../deploy/local/jvm-options.sh"

await_ready() { # port name pid
  for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "http://localhost:$1/q/health/ready"; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "$2 exited; log:" >&2; tail -n 30 "$WORK/$2.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$2 not ready after 60 s; log:" >&2; tail -n 30 "$WORK/$2.log" >&2; exit 1
}

psql -q -d postgres -c "CREATE DATABASE $DB"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/signing-key.pem" 2>/dev/null
SERVICE_TOKEN=$(openssl rand -hex 24)
CREDENTIALS=$WORK/credentials.txt
: >"$CREDENTIALS"

if [ "$MODE" = stand-in ]; then
  PASSWORD=$(openssl rand -hex 12)
  for i in $(seq 1 "$CONCURRENCY"); do echo "bench-$i@example.com $PASSWORD" >>"$CREDENTIALS"; done
  java "$BENCH/UserServiceStandIn.java" --port "$USER_PORT" --token "$SERVICE_TOKEN" \
    --password "$PASSWORD" >"$WORK/user-service.log" 2>&1 &
  PIDS+=($!); USER_PID=$!
else
  PGDATABASE=$DB INTERNAL_SERVICE_TOKEN=$SERVICE_TOKEN QUARKUS_HTTP_PORT=$USER_PORT QUARKUS_MANAGEMENT_PORT=$((USER_PORT + 1000)) \
    QUARKUS_MAILER_MOCK=true CHAT_DEV_MAIL_PAGE_ENABLED=true \
    java $(jvm_options user-service) -jar "$USER_JAR" >"$WORK/user-service.log" 2>&1 &
  PIDS+=($!); USER_PID=$!
fi
await_ready "$USER_PORT" user-service "$USER_PID"

PGDATABASE=$DB INTERNAL_SERVICE_TOKEN=$SERVICE_TOKEN QUARKUS_HTTP_PORT=$AUTH_PORT QUARKUS_MANAGEMENT_PORT=$((AUTH_PORT + 1000)) \
  USER_SERVICE_URL=http://localhost:$USER_PORT AUTH_SIGNING_KEY_LOCATION=$WORK/signing-key.pem \
  java $(jvm_options auth-service) -jar "$AUTH_JAR" >"$WORK/auth-service.log" 2>&1 &
PIDS+=($!); AUTH_PID=$!
await_ready "$AUTH_PORT" auth-service "$AUTH_PID"

if [ "$MODE" = real ]; then
  # Register through user-service's API; the mock mailer's page shows each emailed password.
  for i in $(seq 1 "$CONCURRENCY"); do
    curl -fs -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"user\":{\"name\":\"Bench\",\"subname\":\"Mark\",\"email\":\"bench-$i@example.com\",\"job\":\"load\"}}" \
      "http://localhost:$USER_PORT/api/users"
  done
  for i in $(seq 1 "$CONCURRENCY"); do
    PASSWORD=""
    for _ in $(seq 1 40); do
      PASSWORD=$(curl -fs "http://localhost:$USER_PORT/dev/sent-mails" \
        | grep -m 1 -A 4 "To: bench-$i@example.com<" | tail -n 1 | tr -d '[:space:]' || true)
      [ -n "$PASSWORD" ] && break
      sleep 0.25
    done
    [ -n "$PASSWORD" ] || { echo "no welcome mail for bench-$i@example.com on /dev/sent-mails" >&2; exit 1; }
    echo "bench-$i@example.com $PASSWORD" >>"$CREDENTIALS"
  done
fi

echo "auth-service pid $AUTH_PID, user-service ($MODE) pid $USER_PID, database $DB, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
java "$BENCH/LoginBench.java" --url "http://localhost:$AUTH_PORT" --credentials "$CREDENTIALS" \
  --concurrency "$CONCURRENCY" --seconds "$SECONDS_MEASURED" --warmup "$WARMUP" \
  --auth-pid "$AUTH_PID" --user-pid "$USER_PID"
