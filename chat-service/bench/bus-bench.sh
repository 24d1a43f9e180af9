#!/usr/bin/env bash
# Scale-out benchmark of chat-service (issue 20): 3 replicas on one database, 3,000 sockets spread over them, 1:1
# traffic at 2,000 messages/s; per replica the CPU per message and the events received from the bus, PostgreSQL's
# CPU per message, delivery p50/p99, with CHAT_BUS=postgres and CHAT_BUS=nats in the same run (alternating rounds).
# See ../README.md, "Benchmark: scale-out on NATS".
#
#   chat-service/bench/bus-bench.sh            # ~8 minutes with the defaults
#
# Needs psql, nats-server (on the PATH or /usr/sbin) and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432,
# user postgres, trust auth). Creates a fresh database; the messages table is emptied before every round. Starts its
# own nats-server on 127.0.0.1:BENCH_NATS_PORT, whose CPU it measures too, and a unique subject prefix.
# Tunables (environment):
#   BENCH_DB (chat_bus_bench), BENCH_PORTS (18091,18092,18093: one replica per port), BENCH_NATS_PORT (14222)
#   BENCH_PAIRS (1500: 3,000 users, one socket each), BENCH_RATE (2000 messages/s in all), BENCH_ROUNDS (2: each
#   round runs postgres then nats), BENCH_SERVER_WARMUP (30 s at the rate, not measured, after each start),
#   BENCH_WARMUP, BENCH_SECONDS (10, 30: the measured run), BENCH_SEED (20: which user goes to which replica)
#   BENCH_SERVER_JVM   the replicas' JVM options (default: the Deployment's, deploy/local/jvm-options.sh)
#   BENCH_NO_BUILD=1   run a stale jar rather than rebuild it; JAVA_OPTS: more options for the load tool
# The replicas run with CHAT_MESSAGE_RATE=0 (no per-user limit: a sender sends rate/pairs messages per second).
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_DB:-chat_bus_bench}
IFS=, read -r -a ports <<< "${BENCH_PORTS:-18091,18092,18093}"
pairs=${BENCH_PAIRS:-1500}
rounds=${BENCH_ROUNDS:-2}
nats_port=${BENCH_NATS_PORT:-14222}
nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
server_jvm=${BENCH_SERVER_JVM:-$(jvm_options chat-service)}
export CHAT_MESSAGE_RATE=0
replica_pids=()
nats_pid=

stop_replicas() {
  local pid
  for pid in "${replica_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${replica_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  replica_pids=()
}

bus_cleanup() {
  stop_replicas
  if [ -n "$nats_pid" ]; then
    kill "$nats_pid" 2>/dev/null || true
    wait "$nats_pid" 2>/dev/null || true
  fi
  bench_cleanup
}
trap bus_cleanup EXIT

# start_replicas <bus>: one replica per port, all at once, on the same database; returns once all are live.
start_replicas() {
  local bus=$1 i pid port ok
  for i in "${!ports[@]}"; do
    # shellcheck disable=SC2086  # one option per word
    CHAT_BUS=$bus NATS_URL="nats://127.0.0.1:$nats_port" CHAT_NATS_PREFIX=$nats_prefix \
      QUARKUS_HTTP_PORT=${ports[$i]} QUARKUS_MANAGEMENT_PORT=$((ports[i] + 1000)) PGDATABASE=$db QUARKUS_FLYWAY_MIGRATE_AT_START=false \
      MP_JWT_VERIFY_PUBLICKEY_LOCATION="file:$work/jwks.json" INTERNAL_SERVICE_TOKEN=bench-only \
      AUTH_SERVICE_URL=http://127.0.0.1:9 \
      java $server_jvm -jar "$work/quarkus-app/quarkus-run.jar" > "$work/replica-$((i + 1))-$bus.log" 2>&1 &
    replica_pids+=($!)
  done
  for i in "${!ports[@]}"; do
    pid=${replica_pids[$i]} port=${ports[$i]} ok=
    for _ in $(seq 1 240); do
      if curl -fs "http://127.0.0.1:$port/q/health/live" > /dev/null 2>&1; then
        ok=1
        break
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if [ -z "$ok" ]; then
      cat "$work/replica-$((i + 1))-$bus.log"
      echo "bench: replica $((i + 1)) (port $port, CHAT_BUS=$bus) did not start" >&2
      exit 1
    fi
  done
}

ensure_jar
# Both processes get the hard limit of open files, so one socket each per file.
ulimit -n "$(ulimit -Hn)"

echo "bench: creating database $db"
create_db "$db"
# chat-service never reads users: the rows are there for the foreign keys. Conversation k is between users 2k-1
# (who sends) and 2k.
psql_db "$db" -v pairs="$pairs" <<'SQL'
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, 2 * :pairs) g;
INSERT INTO conversations (sender_id, recipient_id)
SELECT 2 * k - 1, 2 * k FROM generate_series(1, :pairs) k;
INSERT INTO conversation_members (conversation_id, user_id)
SELECT id, sender_id FROM conversations UNION ALL SELECT id, recipient_id FROM conversations;
VACUUM ANALYZE;
SQL

make_keys
# The load tool runs on the service's own Vert.x and Netty jars.
lib=$work/quarkus-app/lib/main
classpath=$(ls "$lib"/io.vertx.vertx-core-*.jar "$lib"/io.netty.netty-*.jar "$lib"/com.fasterxml.jackson.core.jackson-core-*.jar | paste -sd:)
javac -nowarn -d "$work/classes" -cp "$classpath" "$bench/SocketBench.java" "$bench/HistoryBench.java" "$bench/BusBench.java"

# Our own NATS: its CPU is the bus's cost, as the NOTIFY's is PostgreSQL's; the prefix keeps any other user apart.
nats_prefix=bench$$x$RANDOM
"$nats_server" -a 127.0.0.1 -p "$nats_port" > "$work/nats.log" 2>&1 &
nats_pid=$!
sleep 1
kill -0 "$nats_pid" 2>/dev/null || { cat "$work/nats.log"; echo "bench: nats-server did not start on port $nats_port" >&2; exit 1; }

results=$work/results.txt
echo "bench: $(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version'), $("$nats_server" --version)"
echo "bench: replicas on ports ${ports[*]} with $server_jvm, CHAT_MESSAGE_RATE=0; nats-server pid $nats_pid on port $nats_port, prefix $nats_prefix"
echo "bench: $rounds rounds of postgres then nats; each: start the replicas, open the sockets, ${BENCH_SERVER_WARMUP:-30} s warm-up at the rate, then ${BENCH_WARMUP:-10} + ${BENCH_SECONDS:-30} s measured"
for round in $(seq 1 "$rounds"); do
  for bus in postgres nats; do
    # Every round starts from the same database: no messages, vacuumed (autovacuum is off on this machine).
    psql_db "$db" -c "TRUNCATE messages" -c "VACUUM ANALYZE"
    start_replicas "$bus"
    echo "bench: round $round, CHAT_BUS=$bus, replicas $(IFS=,; echo "${replica_pids[*]}"), uptime:$(uptime)"
    # shellcheck disable=SC2086
    java -Xms512m -Xmx2g -XX:+UseSerialGC ${JAVA_OPTS:-} -cp "$classpath:$work/classes" \
      -Dbench.ports="$(IFS=,; echo "${ports[*]}")" \
      -Dbench.pids="$(IFS=,; echo "${replica_pids[*]}")" \
      -Dbench.natsPid="$nats_pid" \
      -Dbench.clockTicks="$(getconf CLK_TCK)" \
      -Dbench.portSeed="${BENCH_SEED:-20}" \
      -Dbench.pairs="$pairs" \
      -Dbench.rates="${BENCH_RATE:-2000}" \
      -Dbench.serverWarmup="${BENCH_SERVER_WARMUP:-30}" \
      -Dbench.warmup="${BENCH_WARMUP:-10}" \
      -Dbench.seconds="${BENCH_SECONDS:-30}" \
      BusBench run "$work" "$db" "$bus" "$round" "$results"
    stop_replicas
    if grep -h -E " (ERROR|WARN) " "$work"/replica-*-"$bus".log | grep -q -v "revoked tokens"; then
      echo "bench: the replicas logged (warnings about loading revoked tokens are expected: no auth-service runs):"
      grep -h -E " (ERROR|WARN) " "$work"/replica-*-"$bus".log | grep -v "revoked tokens" | cut -d' ' -f2- | sort | uniq -c | sort -rn | head -10 || true
    fi
    rm -f "$work"/replica-*-"$bus".log
  done
done
java -cp "$classpath:$work/classes" BusBench summary "$results"
echo "bench: done, uptime:$(uptime)"
