#!/usr/bin/env bash
# Read state and typing benchmark of chat-service (issue 16), both parts in one command. See
# ../README.md, "Benchmark: read state and typing".
#   list:    GET /api/conversations of user 1 of conversations-data.sql (500 conversations: 400 direct,
#            100 groups, over 1,000,000 messages), with read markers that leave ten of them (12,100
#            messages each) 10,000 unread and the 490 others 0-9; p50/p90/p99 in rounds alternating with
#            the baseline, the first history page of one of those conversations (HistoryBench.java list);
#            then EXPLAIN ANALYZE of the list statement (list-query.sql) on the same data.
#   signals: mark_read + typing events per second one chat-service sustains, and the latency of the
#            read/typing pushes to the other member's socket, against heartbeat round trips in the same
#            runs (socket-bench.sh signals: 1,000 sockets, 10,000 conversations, 1,000,000 messages).
#
#   chat-service/bench/read-bench.sh [all|list|signals]     # default all; ~17 minutes here
#
# Needs psql, jcmd and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres, trust
# auth). The list part loads conversations-data.sql into BENCH_LIST_DB (chat_read_bench) once (~30 s,
# BENCH_RELOAD=1 reloads) and sets user 1's markers every run. The service runs with its Deployment's
# JVM options (deploy/local/jvm-options.sh) and shares the machine's cores with PostgreSQL and the load
# tool. Tunables: BENCH_LIST_DB, BENCH_PORT (18085), BENCH_MAX_LOAD (3): before each part, wait up to
# BENCH_LOAD_WAIT (600) s while the 1-minute load average is above it; JAVA_OPTS for HistoryBench, e.g.
# -Dbench.rounds=5 -Dbench.listRequests=1000 -Dbench.requests=2000 -Dbench.concurrency=1; the signals
# part's knobs are socket-bench.sh's (BENCH_RATES, BENCH_SIGNAL_*, BENCH_WARMUP, BENCH_SECONDS, …).
set -euo pipefail

part=${1:-all}
case "$part" in all | list | signals) ;; *) echo "usage: $0 [all|list|signals]" >&2; exit 2 ;; esac

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_LIST_DB:-chat_read_bench}
port=${BENCH_PORT:-18085}

# Other builds share this machine: wait (a while) for a quiet one, and say how quiet it was.
wait_for_quiet() {
  local waited=0
  while [ "$(awk -v max="${BENCH_MAX_LOAD:-3}" '{ print ($1 > max) }' /proc/loadavg)" = 1 ] \
      && [ "$waited" -lt "${BENCH_LOAD_WAIT:-600}" ]; do
    echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) > ${BENCH_MAX_LOAD:-3}, waiting"
    sleep 30
    waited=$((waited + 30))
  done
  echo "bench: $(nproc) cores (the service, PostgreSQL and the load tool share them), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [ "$part" != signals ]; then
  ensure_jar
  load_conversations_data "$db"
  # User 1's markers: in the ten long conversations (1..5, 401..405) 10,000 unread; in the 490
  # others c % 10 (0..9). Nothing else differs from explain.sh's data (which has no markers).
  psql_db "$db" <<'SQL'
UPDATE conversation_members me SET last_read_id = (
    SELECT m.id FROM messages m WHERE m.conversation_id = me.conversation_id ORDER BY m.id DESC
    OFFSET CASE WHEN me.conversation_id IN (1, 2, 3, 4, 5, 401, 402, 403, 404, 405) THEN 10000
                ELSE me.conversation_id % 10 END
    LIMIT 1)
WHERE me.user_id = 1;
VACUUM ANALYZE conversation_members;
SQL
  psql_db "$db" -tA -c "SELECT 'data: ' || (SELECT count(*) FROM messages) || ' messages, '
    || (SELECT count(*) FROM conversations) || ' conversations; user 1 in '
    || (SELECT count(*) FILTER (WHERE c.kind = 'direct') || ' direct and ' || count(*) FILTER (WHERE c.kind = 'group')
        || ' groups' FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id WHERE me.user_id = 1)"
  psql_db "$db" -tA -c "SELECT conversation_id FROM conversation_members WHERE user_id = 1 ORDER BY conversation_id" \
    > "$work/conversations.csv"

  make_keys
  # Message tallies (V7) are written within seconds of a long unread range being shown; the warm-up
  # shows them, so the measured lists count with tallies, as a long-running service does.
  CHAT_CONVERSATIONS_TALLY_INTERVAL=1s start_service "$db" "$port"
  wait_for_quiet
  echo "bench: $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version')"
  echo
  echo "== LIST: GET /api/conversations of user 1, against a history page"
  # shellcheck disable=SC2086
  java ${JAVA_OPTS:-} "$bench/HistoryBench.java" list "$work" "http://127.0.0.1:$port" 1 "$work/conversations.csv"
  stop_service
  psql_db "$db" -tA -c "SELECT 'message tallies: ' || count(*) || ' of the ten long conversations'' ' || (SELECT count(*)
    FROM message_tallies) || ' in all' FROM message_tallies WHERE conversation_id IN (1, 2, 3, 4, 5, 401, 402, 403, 404, 405)"

  echo
  echo "== where the list's time goes: EXPLAIN ANALYZE of its statement (generic plan, warm cache, as above)"
  psql_db "$db" -v listquery="$bench/list-query.sql" <<'SQL'
SET plan_cache_mode = force_generic_plan;
\i :listquery
EXECUTE list_for_member(1, 1000) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE list_for_member(1, 1000);
SQL
fi

if [ "$part" != list ]; then
  wait_for_quiet
  echo
  echo "== SIGNALS: mark_read + typing events/s (socket-bench.sh signals)"
  "$bench/socket-bench.sh" signals
fi
