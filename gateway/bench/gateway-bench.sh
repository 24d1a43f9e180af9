#!/usr/bin/env bash
# Gateway benchmark (issue 14): the same load straight to chat-service and through the gateway in one
# run. Idle sockets tunnelled through the gateway (its RSS, heap and files per socket), 1:1 messages
# at 2,000-5,000/s both ways, and through haproxy as the reference proxy where it is installed (p50/p99,
# CPU per message), REST history page and message post both ways (p50/p99). See ../README.md, "Benchmark".
#
#   gateway/bench/gateway-bench.sh            # ~20 minutes (~16 without the reference proxy)
#
# Reuses chat-service's benchmark: bench-lib.sh (jar, database, keys, service start) and the socket
# load generator SocketBench.java (with HistoryBench.java's tokens), driven by GatewayBench.java.
# Needs psql, jcmd and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres, trust
# auth). Creates a fresh database every run. Tunables (environment):
#   BENCH_DB (gateway_bench), BENCH_PORT (18084, chat-service), BENCH_GATEWAY_PORT (18080; management +10)
#   BENCH_SERVER_JVM   chat-service's JVM options (-Xms64m and its Deployment's, deploy/local/jvm-options.sh: a 512Mi
#                      pod's heap, Serial GC, young generation capped, C heap trimmed)
#   BENCH_GATEWAY_JVM  the gateway's (-Xms64m and its Deployment's, the same; the tool reads the Serial collector's
#                      GC.heap_info). Add e.g. -XX:StartFlightRecording=filename=/tmp/gw.jfr
#   BENCH_PHASES       idle,messages,rest
#   BENCH_IDLE_STEPS   sockets through the gateway (2000,5000,max; max = what the open-files limits allow)
#   BENCH_PAIRS (100), BENCH_RATES (2000,3000,4000,5000), BENCH_ROUNDS (2: direct+gateway, then gateway+direct)
#   BENCH_WARMUP, BENCH_SECONDS   per run (5, 15); BENCH_SERVER_WARMUP (30 s each way at half the first rate, then 15 s each way at the top rate)
#   BENCH_REST_REQUESTS (2000 per kind and way), BENCH_REST_WARMUP (10000: the JIT compiles the REST path only after thousands of requests; 3,000 left it compiling through the measured ones)
#   BENCH_REFERENCE_PROXY  haproxy (the default, when installed: Debian's haproxy package) or none: the messages phase
#                      also drives the load through haproxy in TCP mode (port BENCH_REFERENCE_PORT, 18082), the
#                      cheapest proxy process there is, to tell the gateway's own cost from any extra hop's on this machine
#   BENCH_NO_BUILD=1   run stale jars rather than rebuild them; JAVA_OPTS: more options for the load tool
#   BENCH_GATEWAY_APP  a gateway's quarkus-app directory to run instead of this module's (A/B runs of two builds)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bench=$(cd "$here/../../chat-service/bench" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_DB:-gateway_bench}
port=${BENCH_PORT:-18084}
gateway_port=${BENCH_GATEWAY_PORT:-18080}
pairs=${BENCH_PAIRS:-100}
# Each sender sends 10-50 messages/s, over the per-user limit (API.md "Limits", 10/s): measured without it, as
# socket-bench's messages mode is; an exported CHAT_MESSAGE_RATE wins.
export CHAT_MESSAGE_RATE=${CHAT_MESSAGE_RATE:-0}
server_jvm=${BENCH_SERVER_JVM:--Xms64m $(jvm_options chat-service)}
gateway_jvm=${BENCH_GATEWAY_JVM:--Xms64m $(jvm_options gateway)}
gateway_module=$root/gateway
gateway_jar=$gateway_module/target/quarkus-app/quarkus-run.jar
gateway_pid=
reference_pid=

gateway_cleanup() {
  for pid in $gateway_pid $reference_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  bench_cleanup
}
trap gateway_cleanup EXIT

ensure_jar
reason=
if [ ! -f "$gateway_jar" ]; then
  reason="missing"
elif [ -n "$(find "$gateway_module/src/main" "$gateway_module/pom.xml" -newer "$gateway_jar" -type f -print -quit)" ]; then
  reason="older than its sources"
fi
if [ -n "$reason" ] && [ "${BENCH_NO_BUILD:-0}" = 1 ] && [ -f "$gateway_jar" ]; then
  echo "bench: WARNING: $gateway_jar is $reason (BENCH_NO_BUILD=1: running it anyway)" >&2
elif [ -n "$reason" ]; then
  echo "bench: packaging the gateway ($gateway_jar $reason)"
  (cd "$root" && ./mvnw -B -q package -pl gateway -am -DskipTests)
fi
if [ -n "${BENCH_GATEWAY_APP:-}" ]; then
  gateway_jar=$BENCH_GATEWAY_APP/quarkus-run.jar
fi
cp -r "$(dirname "$gateway_jar")" "$work/gateway-app"

# Every process gets the hard limit of open files (20,000 here); the gateway needs two per tunnelled socket.
ulimit -n "$(ulimit -Hn)"

echo "bench: creating database $db"
create_db "$db"
# chat-service never reads users: the rows are there for the foreign keys. Conversation k is between users
# 2k-1 and 2k (both its members: since groups, a message is stored only for the members the insert reads) (the message pairs); the idle sockets belong to the users after them, one socket each.
psql_db "$db" -v pairs="$pairs" <<'SQL'
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, 2 * :pairs + 10000) g;
INSERT INTO conversations (sender_id, recipient_id)
SELECT 2 * k - 1, 2 * k FROM generate_series(1, :pairs) k;
INSERT INTO conversation_members (conversation_id, user_id)
SELECT id, sender_id FROM conversations UNION ALL SELECT id, recipient_id FROM conversations;
VACUUM ANALYZE;
SQL

make_keys
lib=$work/quarkus-app/lib/main
classpath=$(ls "$lib"/io.vertx.vertx-core-*.jar "$lib"/io.netty.netty-*.jar "$lib"/com.fasterxml.jackson.core.jackson-core-*.jar | paste -sd:)
javac -nowarn -d "$work/classes" -cp "$classpath" "$bench/SocketBench.java" "$bench/HistoryBench.java" "$here/GatewayBench.java"

# shellcheck disable=SC2086
start_service "$db" "$port" $server_jvm

echo "bench: starting $gateway_jar (built $(date -r "$gateway_jar" '+%F %T')) on port $gateway_port with $gateway_jvm"
# shellcheck disable=SC2086
QUARKUS_HTTP_PORT=$gateway_port QUARKUS_MANAGEMENT_PORT=$((gateway_port + 10)) \
  CHAT_SERVICE_URL=http://127.0.0.1:$port USER_SERVICE_URL=http://127.0.0.1:9 AUTH_SERVICE_URL=http://127.0.0.1:9 \
  java $gateway_jvm -jar "$work/gateway-app/quarkus-run.jar" > "$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$((gateway_port + 10))/q/health/ready" > /dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    cat "$work/gateway.log"
    echo "bench: the gateway did not start" >&2
    exit 1
  fi
  sleep 0.5
done

# The reference proxy: haproxy in TCP mode (bytes copied both ways, nothing parsed after the upgrade, as the gateway's
# tunnel), one thread per core as the gateway's event loops, in front of the same chat-service.
reference_args=()
phases=${BENCH_PHASES:-idle,messages,rest}
if [ "${BENCH_REFERENCE_PROXY:-haproxy}" = haproxy ] && [[ $phases == *messages* ]]; then
  if command -v haproxy > /dev/null 2>&1; then
    reference_port=${BENCH_REFERENCE_PORT:-18082}
    cat > "$work/haproxy.cfg" <<EOF
global
  maxconn 4000
  nbthread $(nproc)
defaults
  mode tcp
  timeout connect 3s
  timeout client 1h
  timeout server 1h
frontend sockets
  bind 127.0.0.1:$reference_port
  default_backend chat-service
backend chat-service
  server chat-service 127.0.0.1:$port
EOF
    haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
    reference_pid=$!
    for _ in $(seq 1 50); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$reference_port") 2> /dev/null; then
        break
      fi
      sleep 0.1
    done
    if kill -0 "$reference_pid" 2> /dev/null; then
      echo "bench: reference proxy: $(haproxy -v | head -1 | cut -d' ' -f1-3) on port $reference_port (pid $reference_pid)"
      reference_args=("$reference_port" "$reference_pid")
    else
      cat "$work/haproxy.log"
      echo "bench: haproxy did not start: the messages phase runs without the reference proxy"
      reference_pid=
    fi
  else
    echo "bench: no haproxy here (Debian's package: apt-get install haproxy): the messages phase runs without the reference proxy"
  fi
fi

echo "bench: $(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version'), uptime:$(uptime)"
echo "bench: chat-service JVM: $server_jvm; gateway JVM: $gateway_jvm"
# shellcheck disable=SC2086
java -Xms512m -Xmx2g -XX:+UseSerialGC ${JAVA_OPTS:-} -cp "$classpath:$work/classes" \
  -Dbench.phases="$phases" \
  -Dbench.idleSteps="${BENCH_IDLE_STEPS:-2000,5000,max}" \
  -Dbench.pairs="$pairs" \
  -Dbench.rates="${BENCH_RATES:-2000,3000,4000,5000}" \
  -Dbench.rounds="${BENCH_ROUNDS:-2}" \
  -Dbench.warmup="${BENCH_WARMUP:-5}" \
  -Dbench.seconds="${BENCH_SECONDS:-15}" \
  -Dbench.serverWarmup="${BENCH_SERVER_WARMUP:-30}" \
  -Dbench.restRequests="${BENCH_REST_REQUESTS:-2000}" \
  -Dbench.restWarmup="${BENCH_REST_WARMUP:-10000}" \
  GatewayBench "$work" "$port" "$service_pid" "$gateway_port" "$gateway_pid" "$db" "${reference_args[@]}"
echo "bench: done, uptime:$(uptime)"
for log in service gateway; do
  if grep -q -E " (ERROR|WARN) " "$work/$log.log"; then
    echo "bench: $log logged (warnings about loading revoked tokens are expected: no auth-service runs):"
    grep -E " (ERROR|WARN) " "$work/$log.log" | grep -v "revoked tokens" | sort | uniq -c | sort -rn | head -10 || true
  fi
done
