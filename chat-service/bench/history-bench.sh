#!/usr/bin/env bash
# History benchmark of chat-service (issue 5): 1,000,000 messages over 10,000 conversations on the
# local PostgreSQL, the packaged service against them, p50/p90/p99 of first and deep history pages.
#
#   chat-service/bench/history-bench.sh             # load (or reuse) chat_bench, run, print figures
#   BENCH_RELOAD=1 chat-service/bench/history-bench.sh   # drop and reload the data first
#
# Needs psql and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres, trust auth).
# Tunables: BENCH_DB (chat_bench), BENCH_PORT (18083), and JAVA_OPTS for the load tool, e.g.
# -Dbench.requests=10000 -Dbench.warmup=20000 -Dbench.concurrency=1,4
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_DB:-chat_bench}
port=${BENCH_PORT:-18083}

ensure_jar

loaded=$(psql -X -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "${BENCH_RELOAD:-0}" = 1 ] || [ "$loaded" != 1 ] \
    || [ "$(psql_db "$db" -tA -c "SELECT count(*) FROM messages" 2>/dev/null || echo 0)" != 1000000 ] \
    || [ "$(psql_db "$db" -tA -c "SELECT count(*) FROM conversation_members" 2>/dev/null || echo 0)" != 20000 ]; then
  echo "bench: creating database $db"
  create_db "$db"
  echo "bench: loading 20,000 users, 10,000 conversations, 1,000,000 messages"
  start=$(date +%s)
  psql_db "$db" <<'SQL'
-- Conversation k is between users 2k-1 and 2k.
INSERT INTO users (name, subname, email, job, password_hash)
SELECT 'Bench', g::text, 'bench' || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, 20000) g;
INSERT INTO conversations (sender_id, recipient_id)
SELECT 2 * k - 1, 2 * k FROM generate_series(1, 10000) k;
INSERT INTO conversation_members (conversation_id, user_id)
SELECT id, sender_id FROM conversations UNION ALL SELECT id, recipient_id FROM conversations;
-- Every 10th message goes to conversation 1 (100,000 messages, for deep pages); the other 900,000
-- go round the other 9,999 conversations (90 each). Conversations interleave in id order, as in
-- real traffic, so a page's rows are spread over the table rather than packed together.
INSERT INTO messages (conversation_id, sender_id, content, date, inserted_at, updated_at)
SELECT c, 2 * c - 1 + (g / 10) % 2, 'Message ' || g || ': ' || repeat('lorem ipsum ', 1 + g % 12), t, t, t
FROM (SELECT g,
             CASE WHEN g % 10 = 0 THEN 1 ELSE (g / 10) % 9999 + 2 END AS c,
             timestamptz '2026-01-01 00:00:00+00' + g * interval '15 seconds' AS t
      FROM generate_series(1, 1000000) g) m
ORDER BY g;
SQL
  psql_db "$db" -c "VACUUM ANALYZE"
  echo "bench: loaded in $(( $(date +%s) - start )) s"
else
  echo "bench: reusing database $db (BENCH_RELOAD=1 reloads it)"
fi
psql_db "$db" -tA -c "SELECT 'bench: ' || count(*) || ' messages in ' || count(DISTINCT conversation_id) || ' conversations, '
  || pg_size_pretty(pg_total_relation_size('messages')) || ' with indexes' FROM messages"

# 1,000 random conversations besides the long one: a participant and the cursor of the second page.
psql_db "$db" -tA -F, -c "
  SELECT c.id, c.recipient_id,
         (SELECT id FROM messages m WHERE m.conversation_id = c.id ORDER BY id DESC OFFSET 49 LIMIT 1)
  FROM conversations c WHERE c.id > 1 ORDER BY random() LIMIT 1000" > "$work/samples.csv"
# Cursors 50,000 to 99,900 messages back in the long conversation.
psql_db "$db" -tA -c "
  SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id DESC) AS back FROM messages WHERE conversation_id = 1) m
  WHERE back BETWEEN 50000 AND 99900 AND back % 100 = 0" > "$work/deep-long.csv"

make_keys
start_service "$db" "$port"

echo "bench: $(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version')"
# shellcheck disable=SC2086
java ${JAVA_OPTS:-} "$bench/HistoryBench.java" run "$work" "http://127.0.0.1:$port" "$work/samples.csv" "$work/deep-long.csv"
