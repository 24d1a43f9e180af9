#!/usr/bin/env bash
# What the signals' statements cost PostgreSQL, by pgbench on the data `socket-bench.sh signals` leaves in
# BENCH_DB (chat_signals16 there if so named; default chat_socket_bench): a NOTIFY like PgMessageBus's, and
# ReadRepository.MARK_ONE alone and three times pipelined in one transaction (a batch of marks). Prints, per
# run, transactions/s and PostgreSQL's CPU per transaction (every postgres process: live ones plus the
# postmaster's reaped children, so connections that end are counted). See ../README.md, "Benchmark: read
# state and typing". Run it under the bench lock, right after the signals benchmark.
#   BENCH_DB, BENCH_ROUNDS (2), BENCH_SECONDS (10)
set -euo pipefail
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
db=${BENCH_DB:-chat_socket_bench}
rounds=${BENCH_ROUNDS:-2}
seconds=${BENCH_SECONDS:-10}
work=$(mktemp -d -t chat-pgbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The signals data: conversation c (lo..hi) has actor 1001 + (c - lo) % 1000 and its watcher's messages
# mlo + j * 20000 + (c - lo), j = 0..49 (socket-bench.sh inserts them in that order).
read -r lo hi < <(psql -X -tA -F' ' -d "$db" -c "SELECT min(id), max(id) FROM conversations WHERE sender_id > 1000")
mlo=$(psql -X -tA -d "$db" -c "SELECT min(id) FROM messages WHERE conversation_id = $lo")
# ReadRepository.MARK_ONE with :c, :u, :m for $1, $2, $3 (keep in step with the repository).
mark_one() {
  echo "WITH me AS (SELECT user_id FROM conversation_members WHERE conversation_id = :c$1 AND user_id = :u$1),
target AS (SELECT EXISTS (SELECT 1 FROM messages WHERE id = :m$1 AND conversation_id = :c$1) AS found),
moved AS (UPDATE conversation_members cm SET last_read_id = :m$1 FROM me, target
          WHERE cm.conversation_id = :c$1 AND cm.user_id = :u$1 AND target.found
            AND (cm.last_read_id IS NULL OR cm.last_read_id < :m$1)
            AND :m$1 > coalesce((SELECT max(own.id) FROM messages own WHERE own.conversation_id = :c$1 AND own.sender_id = :u$1), 0)
          RETURNING cm.user_id)
SELECT target.found, EXISTS (SELECT 1 FROM moved) AS moved,
       ARRAY(SELECT m.user_id FROM conversation_members m WHERE m.conversation_id = :c$1 ORDER BY m.user_id) AS member_ids
FROM me, target;" | tr '\n' ' '
  echo
}
pick() {
  echo "\\set c$1 random($lo, $hi)"
  echo "\\set u$1 1001 + (:c$1 - $lo) % 1000"
  echo "\\set m$1 $mlo + random(0, 49) * 20000 + (:c$1 - $lo)"
}
echo "SELECT pg_notify('chat_pgbench', payload) FROM unnest(ARRAY['replica\\n[{\"type\":\"t\",\"to\":[1,2],\"conversation_id\":1,\"user_id\":2}]']) AS payload;" > "$work/notify.sql"
{ pick 1; mark_one 1; } > "$work/mark_one.sql"
{ pick 1; pick 2; pick 3; echo '\startpipeline'; mark_one 1; mark_one 2; mark_one 3; echo '\endpipeline'; } > "$work/mark_pipelined3.sql"

pg_ticks() {
  local total=0 postmaster fields
  postmaster=$(pgrep -o -x postgres) # the oldest: the postmaster, whose reaped children count in its cutime/cstime
  for proc in /proc/[0-9]*; do
    [ "$(cat "$proc/comm" 2>/dev/null)" = postgres ] || continue
    fields=$(sed 's/^.*) //' "$proc/stat" 2>/dev/null) || continue
    set -- $fields
    total=$((total + ${12} + ${13}))
    if [ "${proc#/proc/}" = "$postmaster" ]; then total=$((total + ${14} + ${15})); fi
  done
  echo "$total"
}
run() { # name clients script
  local before after out tx
  before=$(pg_ticks)
  out=$(pgbench -n -M prepared -c "$2" -j "$2" -T "$seconds" -f "$work/$3" "$db" 2>&1)
  after=$(pg_ticks)
  tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  printf '%-16s clients %d  %8d tx/s  PostgreSQL CPU %.3f ms per transaction\n' "$1" "$2" $((tx / seconds)) \
    "$(echo "scale=6; ($after - $before) * 1000 / $(getconf CLK_TCK) / $tx" | bc)"
}
reset_markers() {
  psql -X -q -d "$db" -c "UPDATE conversation_members SET last_read_id = NULL WHERE conversation_id BETWEEN $lo AND $hi AND last_read_id IS NOT NULL" -c "VACUUM conversation_members"
}
echo "pgbench on $db: conversations $lo..$hi, $seconds s per run, $(nproc) cores, uptime:$(uptime)"
for round in $(seq 1 "$rounds"); do
  run notify 2 notify.sql
  reset_markers; run mark_one 1 mark_one.sql
  reset_markers; run mark_pipelined3 1 mark_pipelined3.sql
done
