#!/usr/bin/env bash
# Search benchmark of chat-service (issue 18), both parts in one command. See ../README.md,
# "Benchmark: search".
#   search: search-data.sql (1,000,000 messages of chat-like text over 10,000 conversations; user 1
#           in 100 of them: 80 direct, 20 groups, 100,000 messages) in BENCH_DB (chat_search_bench),
#           the service against it, then p50/p90/p99 of GET /api/messages/search for a rare word, a
#           common word, a word of ~3 % of the messages, a two-word phrase, and the common and rare
#           words within one conversation (conversation_id), against a history page (HistoryBench.java
#           search); the number of hits of each query; then EXPLAIN ANALYZE of the search statement.
#   writes: socket-bench.sh messages at BENCH_RATES (2000) messages/s, BENCH_WRITE_ROUNDS (2) rounds of
#           a run without the search column and its index (BENCH_SEARCH_INDEX=off: messages as before V6)
#           then one with them, each on a fresh database BENCH_WRITES_DB (chat_search_writes); the medians
#           of the rounds and their ratio.
#
#   chat-service/bench/search-bench.sh [all|search|writes]     # default all
#
# Needs psql, jcmd and a PostgreSQL at PGHOST:PGPORT (default 127.0.0.1:5432, user postgres, trust
# auth). The search part loads search-data.sql once (~3 minutes) and reuses it while it is whole and
# the file unchanged (BENCH_RELOAD=1 reloads). The service runs with its Deployment's JVM options and
# CHAT_SEARCH_RATE=0 (one client searches back to back, far above the per-user limit of 5/s).
# Tunables: BENCH_PORT (18086); JAVA_OPTS for HistoryBench, e.g. -Dbench.rounds=3 -Dbench.requests=500
# -Dbench.warmup=300; the writes part's knobs are socket-bench.sh's (BENCH_RATES, BENCH_SERVER_WARMUP,
# BENCH_WARMUP, BENCH_SECONDS, …).
set -euo pipefail

part=${1:-all}
case "$part" in all | search | writes) ;; *) echo "usage: $0 [all|search|writes]" >&2; exit 2 ;; esac

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_DB:-chat_search_bench}
port=${BENCH_PORT:-18086}
rare_words=(zanzibar kerfuffle snollygoster brouhaha lollygag gobbledygook cattywampus skedaddle flibbertigibbet quixotry)

load_search_data() {
  local version loaded
  version=$(md5sum "$bench/search-data.sql" "$root"/common/src/main/resources/db/migration/V*__*.sql | md5sum | cut -c1-32)
  loaded=$(psql -X -tA -d postgres -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'")
  if [ "${BENCH_RELOAD:-0}" = 1 ] || [ "$loaded" != "search-data $version" ]; then
    echo "bench: creating database $db and loading search-data.sql"
    local start
    start=$(date +%s)
    create_db "$db"
    psql_db "$db" -f "$bench/search-data.sql"
    psql_db "$db" -c "VACUUM ANALYZE"
    psql_db "$db" -c "COMMENT ON DATABASE $db IS 'search-data $version'"
    echo "bench: loaded in $(( $(date +%s) - start )) s"
  else
    echo "bench: reusing database $db (BENCH_RELOAD=1 reloads it)"
  fi
}

# The hits of a query, its terms as a text[] literal ('{"quarterly roadmap"}' is one phrase): in the user's
# conversations, and in all.
hits() {
  psql_db "$db" -tA -v words="$1" <<'SQL'
SELECT count(*) FILTER (WHERE conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = 1))
       || ' of user 1, ' || count(*) || ' in all'
FROM messages WHERE search @@ chat_search_query(:'words', '{}')
SQL
}

if [ "$part" != writes ]; then
  ensure_jar
  load_search_data
  psql_db "$db" -tA -c "SELECT 'data: ' || (SELECT count(*) FROM messages) || ' messages ('
    || (SELECT round(avg(array_length(regexp_split_to_array(content, '\s+'), 1)), 1) FROM messages) || ' words each on average, '
    || pg_size_pretty(pg_total_relation_size('messages')) || ' with indexes, search index '
    || pg_size_pretty(pg_relation_size('messages_search_idx')) || '), '
    || (SELECT count(*) FROM conversations) || ' conversations; user 1 in '
    || (SELECT count(*) FILTER (WHERE c.kind = 'direct') || ' direct and ' || count(*) FILTER (WHERE c.kind = 'group')
        || ' groups' FROM conversation_members me JOIN conversations c ON c.id = me.conversation_id WHERE me.user_id = 1)
    || ' (' || (SELECT count(*) FROM messages WHERE conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = 1))
    || ' messages)'"
  echo "sample messages:"
  psql_db "$db" -tA -c "SELECT '  ' || content FROM messages WHERE id % 100000 IN (1, 2, 3, 4, 5) ORDER BY id LIMIT 8"
  psql_db "$db" -tA -c "SELECT conversation_id FROM conversation_members WHERE user_id = 1 ORDER BY conversation_id" \
    > "$work/conversations.csv"

  echo
  echo "hits (messages matching each query):"
  for word in "${rare_words[@]}"; do
    echo "  rare word $word: $(hits "{$word}")"
  done
  for q in the deploy '"quarterly roadmap"' quarterly; do
    echo "  $q: $(hits "{$q}")"
  done

  rare=$(IFS=$'\t'; echo "${rare_words[*]}")
  printf '%s\t%s\t%s\n' \
    "rare word (one of 10, ~5 hits each)" all "$rare" \
    "common word: the" all the \
    "word in ~3 % of messages: deploy" all deploy \
    'phrase: "quarterly roadmap"' all '"quarterly roadmap"' \
    "the, in one conversation (conversation_id)" each the \
    "rare word, in one conversation (conversation_id)" each "$rare" > "$work/scenarios.tsv"

  make_keys
  CHAT_SEARCH_RATE=0 start_service "$db" "$port"
  echo "bench: $(nproc) cores (the service, PostgreSQL and the load tool share them), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "bench: $(java -version 2>&1 | head -1), PostgreSQL $(psql -X -tA -d postgres -c 'SHOW server_version')"
  echo
  echo "== SEARCH: GET /api/messages/search (limit 20) of user 1"
  # shellcheck disable=SC2086
  java ${JAVA_OPTS:-} "$bench/HistoryBench.java" search "$work" "http://127.0.0.1:$port" 1 "$work/conversations.csv" "$work/scenarios.tsv"
  stop_service

  echo
  echo "== the search statement (MessageRepository.SEARCH), EXPLAIN ANALYZE with the parameters of a request, warm cache"
  psql_db "$db" -v searchquery="$bench/search-query.sql" <<'SQL'
\i :searchquery
\echo '-- rare word'
EXECUTE search_for_member(1, '{zanzibar}', '{}', 9223372036854775807, NULL, 21) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE search_for_member(1, '{zanzibar}', '{}', 9223372036854775807, NULL, 21);
\echo '-- common word'
EXECUTE search_for_member(1, '{the}', '{}', 9223372036854775807, NULL, 21) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE search_for_member(1, '{the}', '{}', 9223372036854775807, NULL, 21);
\echo '-- phrase'
EXECUTE search_for_member(1, '{"quarterly roadmap"}', '{}', 9223372036854775807, NULL, 21) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE search_for_member(1, '{"quarterly roadmap"}', '{}', 9223372036854775807, NULL, 21);
SQL
fi

if [ "$part" != search ]; then
  rounds=${BENCH_WRITE_ROUNDS:-2}
  export BENCH_DB=${BENCH_WRITES_DB:-chat_search_writes} BENCH_RATES=${BENCH_RATES:-2000}
  echo
  echo "== WRITES: socket-bench.sh messages at $BENCH_RATES/s, $rounds rounds of: without the search column and index, with them"
  for round in $(seq 1 "$rounds"); do
    for index in off on; do
      echo
      echo "-- round $round, search index $index ($(date -u '+%H:%M:%S') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg))"
      BENCH_SEARCH_INDEX=$index "$bench/socket-bench.sh" messages | tee "$work/writes-$round-$index.log"
    done
  done
  echo
  echo "== WRITES summary: per round, the median of its measured runs (socket-bench's 'medians by target rate')"
  printf '%-6s %-6s %6s %9s %7s %7s %7s %7s %7s\n' round index target stored+dl p50 p90 p99 srvms pgms
  for round in $(seq 1 "$rounds"); do
    for index in off on; do
      # The lines after "medians by target rate:": target runs stored+dl p50 p90 p99 max ackp99; the CPU ms per
      # message of the service and PostgreSQL (srvms, pgms: columns 21 and 22 of a run's line) of the last run.
      awk -v r="$round" -v i="$index" '$1 ~ /^[1-9][0-9]*$/ && NF >= 24 { srv = $21; pg = $22 }
          /^medians by target rate/ { on = 1; next } on && NF == 8 && $1 ~ /^[0-9]+$/ {
          printf "%-6s %-6s %6s %9s %7s %7s %7s %7s %7s\n", r, i, $1, $3, $4, $5, $6, srv, pg }' "$work/writes-$round-$index.log"
    done
  done | tee "$work/writes-summary.txt"
  awk '$2 == "off" { off[$3] = off[$3] " " $4 "/" $5 "/" $7 } $2 == "on" { on[$3] = on[$3] " " $4 "/" $5 "/" $7 }
    function median(list, field,    n, a, v, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) { split(a[i], f, "/"); v[i] = f[field] }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    END { for (rate in on) {
      printf "medians at %s/s: without the index %.0f/s, p50 %.1f ms, p99 %.1f ms; with it %.0f/s, p50 %.1f ms, p99 %.1f ms;\n", rate,
        median(off[rate], 1), median(off[rate], 2), median(off[rate], 3), median(on[rate], 1), median(on[rate], 2), median(on[rate], 3)
      printf "  ratio with/without: throughput %.2f, p50 %.2f, p99 %.2f (goal: within 15 %%)\n",
        median(on[rate], 1) / median(off[rate], 1), median(on[rate], 2) / median(off[rate], 2), median(on[rate], 3) / median(off[rate], 3) } }' \
    "$work/writes-summary.txt"
fi
