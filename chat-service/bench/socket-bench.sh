#!/usr/bin/env bash
# Chat socket benchmark of chat-service: idle authenticated connections held on one process (RSS
# per connection, slope, heap histogram), 1:1 messages stored and delivered per second with the
# sender→recipient latency, and the fan-out of one busy group. See ../README.md, "Benchmark: the
# chat socket" and "Benchmark: group fan-out". The flood mode (not part of all) runs a normal load
# with and without one hostile socket flooding send_msg: see ../README.md, "Benchmark: a hostile client".
# The signals mode (not part of all; read-bench.sh runs it) is the mark_read + typing load of issue 16:
# see ../README.md, "Benchmark: read state and typing".
#
#   chat-service/bench/socket-bench.sh [idle|messages|all|group|flood|signals|presence]      # default: all (idle and messages)
#
# Needs psql, jcmd and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres, trust
# auth). Creates a fresh database every run. Tunables (environment):
#   BENCH_DB (chat_socket_bench), BENCH_PORT (18084)
#   BENCH_SERVER_JVM   the service's JVM options (default: its Deployment's, as the local run uses them,
#                      deploy/local/jvm-options.sh: -Xmx384m -XX:+UseSerialGC -XX:MaxNewSize=64m;
#                      the tool reads the Serial collector's GC.heap_info)
#   BENCH_CONNECTIONS  idle steps, "max" = what both processes' open-files limits allow (2000,5000,10000,max)
#   BENCH_BASELINE     bare (default) or none: idle and all first run the same idle steps against a bare
#                      websockets-next endpoint (bare-socket/) with the same JVM options, then print chat-service's
#                      RSS and heap per socket against it (the goal: at most 1.1 x)
#   BENCH_HOLD         seconds the top step is held idle, heartbeating (65: past the 60 s idle timeout)
#   BENCH_PAIRS        sender/recipient pairs (200); BENCH_RATES total messages/s per run (2000,2000,2000,3000,4000);
#                      a run that is not kept up with (< 90 % delivered, or p99 > 1 s) skips the higher rates
#                      and adds BENCH_FALLBACK_RATES (1000,700,700,700,500,500,500) to find the knee
#   BENCH_SERVER_WARMUP  seconds of an unmeasured first run at half the first rate (60; group: at the group rate)
#   BENCH_GROUP_MEMBERS (200), BENCH_GROUP_RATE messages/s (100: 19,900 deliveries/s, the goal of 20,000), BENCH_GROUP_RUNS measured runs (3): the group mode
#   BENCH_WARMUP, BENCH_SECONDS   per run (10, 30)
#   BENCH_NO_BUILD=1   run a stale jar rather than rebuild it; JAVA_OPTS: more options for the load tool
# flood: BENCH_FLOOD_PAIRS (100) pairs at BENCH_FLOOD_RATE (500) messages/s in all, BENCH_FLOOD_ROUNDS (2)
#   rounds of a quiet and a flooded run (BENCH_WARMUP + BENCH_SECONDS each), BENCH_FLOOD_CHARS (32)
#   characters per flooding message, after BENCH_SERVER_WARMUP (60) s of the normal load.
# signals: BENCH_SIGNAL_USERS (1000) users 1001.., one socket each, each the actor of BENCH_SIGNAL_FANOUT (20)
#   direct conversations (with the users 1..FANOUT after it) and the watcher of as many; BENCH_SIGNAL_MESSAGES
#   (50) messages of the watcher in each (20,000 conversations, 1,000,000 messages by default);
#   BENCH_SIGNAL_SERIES the runs, "mix=events/s,…;…" with mix both (typing and mark_read alternately), typing
#   or mark_read (default both=1000,1500,2000,3500,5000,5000,5000;typing=2500,5000,5000,5000,8000;mark_read=500,1000,1500;
#   in each series a run not kept up with skips the higher rates); BENCH_PROBE_RATE (100) heartbeats/s over
#   the same sockets, the baseline. The service keeps its CHAT_SIGNAL_RATE default (20 per user per second)
#   unless exported: each user sends rate/1000 events per second.
# presence (not part of all): issue 17, see ../README.md, "Benchmark: presence". BENCH_PRESENCE_USERS (2000) users
#   10001.., BENCH_PRESENCE_SOCKETS (5) sockets each, each user in a direct conversation with the
#   BENCH_PRESENCE_CONTACTS/2 (25) users after them round the ring (so BENCH_PRESENCE_CONTACTS contacts each:
#   50,000 conversations by default). Two fresh services in turn: the first holds the same number of sockets of as
#   many users without contacts (the baseline), the second the users with contacts; each opens them user by user in
#   BENCH_PRESENCE_STEPS (2000,5000,10000), measuring RSS as idle does, and times every presence_state after its
#   phx_join. Then, on the second: BENCH_PRESENCE_PROBE (500/10: sockets/seconds) paced rejoins and the reconnect
#   storm BENCH_PRESENCE_STORM (2000/5): one socket per stormed user closed and a new one joined, evenly over the
#   seconds, every expected presence_diff counted at every other socket, with its latency.
# The service runs with the limits' defaults in flood mode (CHAT_MESSAGE_RATE=10 per user, the
# normal senders send 5/s each), and with CHAT_MESSAGE_RATE=0 in the others (their senders send
# 10-20/s each); an exported CHAT_MESSAGE_RATE wins in both.
set -euo pipefail

mode=${1:-all}
case "$mode" in idle | messages | all | group | flood | signals | presence) ;; *) echo "usage: $0 [idle|messages|all|group|flood|signals|presence]" >&2; exit 2 ;; esac

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
signal_users=${BENCH_SIGNAL_USERS:-1000}
signal_fanout=${BENCH_SIGNAL_FANOUT:-20}
presence_users=${BENCH_PRESENCE_USERS:-2000}
presence_contacts=${BENCH_PRESENCE_CONTACTS:-50}
# chat-service runs with the JVM options of its Deployment, as in the local run (deploy/local/jvm-options.sh).
server_jvm=${BENCH_SERVER_JVM:-$(jvm_options chat-service)}
# Idle memory is measured after forced full collections (jcmd GC.run), which the Serial collector leaves with dead
# space of up to 5 % of the old generation (int[] fillers, not objects of any socket: ~0.8 KB "per socket" at 19,749
# in one run, back to nothing with this option): both servers of the idle comparison compact fully.
if [ -z "${BENCH_SERVER_JVM:-}" ] && { [ "$mode" = idle ] || [ "$mode" = all ]; }; then
  server_jvm="$server_jvm -XX:MarkSweepDeadRatio=0"
fi

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
if [ "$mode" = signals ]; then
  echo "bench: inserting $((signal_users * signal_fanout)) conversations of users 1001..$((1000 + signal_users)), ${BENCH_SIGNAL_MESSAGES:-50} messages each"
  # Conversation c (0-based) is between its actor 1001 + c % users and its watcher, the user
  # 1 + c / users places after it (round the ring); every message is the watcher's, interleaved in id order.
  psql_db "$db" -v users="$signal_users" -v fanout="$signal_fanout" -v messages="${BENCH_SIGNAL_MESSAGES:-50}" <<'SQL'
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash'
FROM generate_series((SELECT max(id) + 1 FROM users), 1000 + :users) g;
INSERT INTO conversations (sender_id, recipient_id)
SELECT 1001 + c % :users, 1001 + (c % :users + c / :users + 1) % :users FROM generate_series(0, :users * :fanout - 1) c ORDER BY c;
INSERT INTO conversation_members (conversation_id, user_id)
SELECT id, sender_id FROM conversations WHERE sender_id > 1000
UNION ALL SELECT id, recipient_id FROM conversations WHERE sender_id > 1000;
INSERT INTO messages (conversation_id, sender_id, content, date, inserted_at, updated_at)
SELECT c.id, c.recipient_id, 'Message ' || j || ': ' || repeat('lorem ipsum ', (1 + (c.id + j) % 12)::int), t, t, t
FROM (SELECT id, recipient_id FROM conversations WHERE sender_id > 1000) c
CROSS JOIN LATERAL (SELECT j, timestamptz '2026-01-01 00:00:00+00' + (j * 100000 + c.id) * interval '1 millisecond' AS t
                    FROM generate_series(0, :messages - 1) j) g
ORDER BY j, c.id;
VACUUM ANALYZE;
SQL
  psql_db "$db" -tA -F, -c "SELECT c.id, c.sender_id, c.recipient_id, string_agg(m.id::text, ' ' ORDER BY m.id)
    FROM conversations c JOIN messages m ON m.conversation_id = c.id WHERE c.sender_id > 1000 GROUP BY c.id ORDER BY c.id" > "$work/signals.csv"
  psql_db "$db" -tA -c "SELECT 'bench: ' || count(*) || ' messages, ' || pg_size_pretty(pg_total_relation_size('messages')) || ' with indexes' FROM messages"
fi

if [ "$mode" = presence ]; then
  echo "bench: inserting users 10001..$((10000 + 2 * presence_users)) and $((presence_users * presence_contacts / 2)) direct conversations among the first $presence_users"
  # User 10001 + i shares a direct conversation with each of the users 10001 + (i + d) % users, d = 1..contacts/2:
  # contacts/2 after them and as many before, round the ring. The users after them have none (the baseline).
  psql_db "$db" -v users="$presence_users" -v half="$((presence_contacts / 2))" <<'SQL'
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash'
FROM generate_series((SELECT max(id) + 1 FROM users), 10000 + 2 * :users) g;
INSERT INTO conversations (sender_id, recipient_id)
SELECT 10001 + i, 10001 + (i + d) % :users FROM generate_series(0, :users - 1) i, generate_series(1, :half) d ORDER BY i, d;
INSERT INTO conversation_members (conversation_id, user_id)
SELECT id, sender_id FROM conversations WHERE sender_id > 10000
UNION ALL SELECT id, recipient_id FROM conversations WHERE sender_id > 10000;
VACUUM ANALYZE;
SQL
fi

make_keys
# The load tool runs on the service's own Vert.x and Netty jars.
lib=$work/quarkus-app/lib/main
classpath=$(ls "$lib"/io.vertx.vertx-core-*.jar "$lib"/io.netty.netty-*.jar "$lib"/com.fasterxml.jackson.core.jackson-core-*.jar | paste -sd:)
javac -nowarn -d "$work/classes" -cp "$classpath" "$bench/SocketBench.java" "$bench/HistoryBench.java"

# The load tool, in mode $1, against the running service.
load_tool() {
  # shellcheck disable=SC2086
  java -Xms512m -Xmx2g -XX:+UseSerialGC ${JAVA_OPTS:-} -cp "$classpath:$work/classes" \
    -Dbench.serverJvm="$server_jvm" \
    -Dbench.connections="${BENCH_CONNECTIONS:-2000,5000,10000,max}" \
    -Dbench.hold="${BENCH_HOLD:-65}" \
    -Dbench.pairs="$pairs" \
    -Dbench.rates="${BENCH_RATES:-2000,2000,2000,3000,4000}" \
    -Dbench.probeRate="${BENCH_PROBE_RATE:-100}" \
    -Dbench.signalSeries="${BENCH_SIGNAL_SERIES:-both=1000,1500,2000,3500,5000,5000,5000;typing=2500,5000,5000,5000,8000;mark_read=500,1000,1500}" \
    -Dbench.fallbackRates="${BENCH_FALLBACK_RATES-1000,700,700,700,500,500,500}" \
    -Dbench.serverWarmup="${BENCH_SERVER_WARMUP:-60}" \
    -Dbench.warmup="${BENCH_WARMUP:-10}" \
    -Dbench.seconds="${BENCH_SECONDS:-30}" \
    -Dbench.floodRate="${BENCH_FLOOD_RATE:-500}" \
    -Dbench.floodRounds="${BENCH_FLOOD_ROUNDS:-2}" \
    -Dbench.floodChars="${BENCH_FLOOD_CHARS:-32}" \
    -Dbench.groupMembers="$group_members" \
    -Dbench.groupRate="${BENCH_GROUP_RATE:-100}" \
    -Dbench.groupRuns="${BENCH_GROUP_RUNS:-3}" \
    -Dbench.presenceUsers="$presence_users" \
    -Dbench.socketsPerUser="${BENCH_PRESENCE_SOCKETS:-5}" \
    -Dbench.contacts="$presence_contacts" \
    -Dbench.presenceSteps="${BENCH_PRESENCE_STEPS:-2000,5000,10000}" \
    -Dbench.probe="${BENCH_PRESENCE_PROBE:-500/10}" \
    -Dbench.storm="${BENCH_PRESENCE_STORM:-2000/5}" \
    SocketBench "$1" "$work" "$port" "$service_pid" "$db"
}

# The idle baseline (BENCH_BASELINE=bare, the default for idle and all; none skips it): the same idle load against a
# bare websockets-next endpoint (bare-socket/: no authentication, websockets-next's defaults, a reply to joins and
# heartbeats) on the same JVM options, before chat-service starts; its output in $work/baseline-idle.txt.
idle_baseline() {
  local bare_module=$bench/bare-socket bare_jar=$bench/bare-socket/target/quarkus-app/quarkus-run.jar
  if [ ! -f "$bare_jar" ] || [ -n "$(find "$bare_module/src" "$bare_module/pom.xml" -newer "$bare_jar" -type f -print -quit)" ]; then
    echo "bench: packaging the baseline endpoint ($bare_module)"
    (cd "$root" && ./mvnw -B -q -f "$bare_module/pom.xml" package -DskipTests)
  fi
  cp -r "$(dirname "$bare_jar")" "$work/bare-app"
  echo "bench: BASELINE: a bare websockets-next endpoint ($bare_module) on port $port with $server_jvm"
  # shellcheck disable=SC2086
  QUARKUS_HTTP_PORT=$port java $server_jvm -jar "$work/bare-app/quarkus-run.jar" > "$work/bare.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 60); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$work/bare.log"; echo "bench: the baseline endpoint did not start" >&2; exit 1; }
    sleep 0.5
  done
  load_tool idle | tee "$work/baseline-idle.txt"
  stop_service
  echo "bench: CHAT-SERVICE: the same idle load"
}

# "RSS 11.20 KB per connection" and "heap used 9.10 KB per connection" of a load tool's idle output.
idle_slope() {
  sed -n "s/^  $2 *\([0-9.]*\) KB per connection.*/\1/p" "$1" | head -1
}

echo "bench: the service's limits: CHAT_MESSAGE_RATE=${CHAT_MESSAGE_RATE:-(default)} CHAT_SIGNAL_RATE=${CHAT_SIGNAL_RATE:-(default, 20)}"
echo "bench: $(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version'), uptime:$(uptime)"
if [ "$mode" = presence ]; then
  # The baseline on a fresh service of its own: both phases start from a service that never held a socket.
  # shellcheck disable=SC2086
  start_service "$db" "$port" $server_jvm
  load_tool presence-baseline
  stop_service
  # shellcheck disable=SC2086
  start_service "$db" "$port" $server_jvm
  load_tool presence
else
  baseline=${BENCH_BASELINE:-bare}
  if [ "$baseline" = bare ] && { [ "$mode" = idle ] || [ "$mode" = all ]; }; then
    idle_baseline
  fi
  # shellcheck disable=SC2086
  start_service "$db" "$port" $server_jvm
  load_tool "$mode" | tee "$work/tool.txt"
  if [ -f "$work/baseline-idle.txt" ]; then
    bare_rss=$(idle_slope "$work/baseline-idle.txt" RSS) chat_rss=$(idle_slope "$work/tool.txt" RSS)
    bare_heap=$(idle_slope "$work/baseline-idle.txt" "heap used") chat_heap=$(idle_slope "$work/tool.txt" "heap used")
    bare_live=$(sed -n 's/^heap by class.*: \([0-9]*\) bytes per connection in all/\1/p' "$work/baseline-idle.txt")
    chat_live=$(sed -n 's/^heap by class.*: \([0-9]*\) bytes per connection in all/\1/p' "$work/tool.txt")
    echo
    echo "IDLE SUMMARY (goal: chat-service <= 1.1 x a bare websockets-next endpoint per idle socket, same load, same JVM options)"
    awk -v br="$bare_rss" -v cr="$chat_rss" -v bh="$bare_heap" -v ch="$chat_heap" -v bl="$bare_live" -v cl="$chat_live" 'BEGIN {
      printf "  RSS per socket (least squares):       chat-service %6.2f KB, bare endpoint %6.2f KB, ratio %.2f\n", cr, br, cr / br
      printf "  heap used per socket (least squares): chat-service %6.2f KB, bare endpoint %6.2f KB, ratio %.2f\n", ch, bh, ch / bh
      printf "  live objects per socket (class histogram growth): chat-service %.2f KB, bare endpoint %.2f KB, ratio %.2f\n",
        cl / 1024, bl / 1024, cl / bl }'
  fi
fi
echo "bench: done, uptime:$(uptime)"
if grep -q -E " (ERROR|WARN) " "$work/service.log"; then
  echo "bench: the service logged (warnings about loading revoked tokens are expected: no auth-service runs):"
  grep -E " (ERROR|WARN) " "$work/service.log" | grep -v "revoked tokens" | sort | uniq -c | sort -rn | head -10 || true
fi
