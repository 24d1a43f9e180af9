#!/usr/bin/env bash
# Chat socket benchmark of chat-service: idle authenticated connections held on one process (RSS
# per connection, slope, heap histogram), 1:1 messages stored and delivered per second with the
# sender→recipient latency, and the fan-out of one busy group. See ../README.md, "Benchmark: the
# chat socket" and "Benchmark: group fan-out". The flood mode (not part of all) runs a normal load
# with and without one hostile socket flooding send_msg: see ../README.md, "Benchmark: a hostile client".
#
#   chat-service/bench/socket-bench.sh [idle|messages|all|group|flood]      # default: all (idle and messages)
#
# Needs psql, jcmd and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres, trust
# auth). Creates a fresh database every run. Tunables (environment):
#   BENCH_DB (chat_socket_bench), BENCH_PORT (18084)
#   BENCH_SERVER_JVM   the service's JVM options (default: its Deployment's, as the local run uses them,
#                      deploy/local/jvm-options.sh: -Xmx384m -XX:+UseSerialGC -XX:MaxNewSize=64m;
#                      the tool reads the Serial collector's GC.heap_info)
#   BENCH_CONNECTIONS  idle steps, "max" = what both processes' open-files limits allow (2000,5000,10000,max)
#   BENCH_HOLD         seconds the top step is held idle, heartbeating (65: past the 60 s idle timeout)
#   BENCH_PAIRS        sender/recipient pairs (200); BENCH_RATES total messages/s per run (2000,2000,2000,3000,4000);
#                      a run that is not kept up with (< 90 % delivered, or p99 > 1 s) skips the higher rates
#                      and adds BENCH_FALLBACK_RATES (1000,700,700,700,500,500,500) to find the knee
#   BENCH_SERVER_WARMUP  seconds of an unmeasured first run at half the first rate (60; group: at the group rate)
#   BENCH_GROUP_MEMBERS (200), BENCH_GROUP_RATE messages/s (25), BENCH_GROUP_RUNS measured runs (3): the group mode
#   BENCH_WARMUP, BENCH_SECONDS   per run (10, 30)
#   BENCH_NO_BUILD=1   run a stale jar rather than rebuild it; JAVA_OPTS: more options for the load tool
# flood: BENCH_FLOOD_PAIRS (100) pairs at BENCH_FLOOD_RATE (500) messages/s in all, BENCH_FLOOD_ROUNDS (2)
#   rounds of a quiet and a flooded run (BENCH_WARMUP + BENCH_SECONDS each), BENCH_FLOOD_CHARS (32)
#   characters per flooding message, after BENCH_SERVER_WARMUP (60) s of the normal load.
# The service runs with the limits' defaults in flood mode (CHAT_MESSAGE_RATE=10 per user, the
# normal senders send 5/s each), and with CHAT_MESSAGE_RATE=0 in the others (their senders send
# 10-20/s each); an exported CHAT_MESSAGE_RATE wins in both.
set -euo pipefail

mode=${1:-all}
case "$mode" in idle | messages | all | group | flood) ;; *) echo "usage: $0 [idle|messages|all|group|flood]" >&2; exit 2 ;; esac

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_DB:-chat_socket_bench}
port=${BENCH_PORT:-18084}
pairs=${BENCH_PAIRS:-200}
if [ "$mode" = flood ]; then
  pairs=${BENCH_FLOOD_PAIRS:-100}
else
  export CHAT_MESSAGE_RATE=${CHAT_MESSAGE_RATE:-0}
fi
group_members=${BENCH_GROUP_MEMBERS:-200}
# chat-service runs with the JVM options of its Deployment, as in the local run (deploy/local/jvm-options.sh).
server_jvm=${BENCH_SERVER_JVM:-$(jvm_options chat-service)}

ensure_jar
# Both processes get the hard limit of open files (20,000 here), so one socket each per file.
ulimit -n "$(ulimit -Hn)"

echo "bench: creating database $db"
create_db "$db"
# chat-service never reads users: the rows are there for the foreign keys. Conversation k is
# between users 2k-1 and 2k (the message pairs; the flooder is the one after them); the idle
# sockets belong to the users after them. Conversation pairs + 2 is the group of users
# 1..BENCH_GROUP_MEMBERS (the group mode).
psql_db "$db" -v pairs="$pairs" -v members="$group_members" <<'SQL'
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, 2 * :pairs + 9000) g;
INSERT INTO conversations (sender_id, recipient_id)
SELECT 2 * k - 1, 2 * k FROM generate_series(1, :pairs + 1) k;
INSERT INTO conversation_members (conversation_id, user_id)
SELECT id, sender_id FROM conversations UNION ALL SELECT id, recipient_id FROM conversations;
INSERT INTO conversations (kind, title, sender_id) VALUES ('group', 'Bench group', 1);
INSERT INTO conversation_members (conversation_id, user_id)
SELECT :pairs + 2, g FROM generate_series(1, :members) g;
VACUUM ANALYZE;
SQL

make_keys
# The load tool runs on the service's own Vert.x and Netty jars.
lib=$work/quarkus-app/lib/main
classpath=$(ls "$lib"/io.vertx.vertx-core-*.jar "$lib"/io.netty.netty-*.jar "$lib"/com.fasterxml.jackson.core.jackson-core-*.jar | paste -sd:)
javac -nowarn -d "$work/classes" -cp "$classpath" "$bench/SocketBench.java" "$bench/HistoryBench.java"

# shellcheck disable=SC2086
start_service "$db" "$port" $server_jvm

echo "bench: the service's limits: CHAT_MESSAGE_RATE=${CHAT_MESSAGE_RATE:-(default)}"
echo "bench: $(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version'), uptime:$(uptime)"
# shellcheck disable=SC2086
java -Xms512m -Xmx2g -XX:+UseSerialGC ${JAVA_OPTS:-} -cp "$classpath:$work/classes" \
  -Dbench.serverJvm="$server_jvm" \
  -Dbench.connections="${BENCH_CONNECTIONS:-2000,5000,10000,max}" \
  -Dbench.hold="${BENCH_HOLD:-65}" \
  -Dbench.pairs="$pairs" \
  -Dbench.rates="${BENCH_RATES:-2000,2000,2000,3000,4000}" \
  -Dbench.fallbackRates="${BENCH_FALLBACK_RATES-1000,700,700,700,500,500,500}" \
  -Dbench.serverWarmup="${BENCH_SERVER_WARMUP:-60}" \
  -Dbench.warmup="${BENCH_WARMUP:-10}" \
  -Dbench.seconds="${BENCH_SECONDS:-30}" \
  -Dbench.floodRate="${BENCH_FLOOD_RATE:-500}" \
  -Dbench.floodRounds="${BENCH_FLOOD_ROUNDS:-2}" \
  -Dbench.floodChars="${BENCH_FLOOD_CHARS:-32}" \
  -Dbench.groupMembers="$group_members" \
  -Dbench.groupRate="${BENCH_GROUP_RATE:-25}" \
  -Dbench.groupRuns="${BENCH_GROUP_RUNS:-3}" \
  SocketBench "$mode" "$work" "$port" "$service_pid" "$db"
echo "bench: done, uptime:$(uptime)"
if grep -q -E " (ERROR|WARN) " "$work/service.log"; then
  echo "bench: the service logged (warnings about loading revoked tokens are expected: no auth-service runs):"
  grep -E " (ERROR|WARN) " "$work/service.log" | grep -v "revoked tokens" | sort | uniq -c | sort -rn | head -10 || true
fi
