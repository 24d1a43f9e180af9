#!/usr/bin/env bash
# Query plans of chat-service's membership-bound reads on 1,000,000 messages: the conversation
# list (with the read state, list-query.sql), the socket's `since` catch-up (recent and from the
# start), a history page, and the batch INSERT of a group message (rolled back). See ../README.md,
# "Query plans".
#
#   chat-service/bench/explain.sh          # BENCH_RELOAD=1 reloads the data
#
# Needs psql and the PostgreSQL at PGHOST:PGPORT. Loads conversations-data.sql into the database
# BENCH_DB (chat_explain) once (~1 minute). The statements are those of ConversationRepository and
# MessageRepository, run as prepared statements with generic plans, as the service's do once
# PostgreSQL has settled on a plan; the list and the catch-up from 0 are run once before their
# EXPLAIN, so that the figures are those of a warm cache.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/bench-lib.sh"
db=${BENCH_DB:-chat_explain}

load_conversations_data "$db"
psql_db "$db" -tA -c "SELECT 'data: ' || (SELECT count(*) FROM messages) || ' messages, '
  || (SELECT count(*) FROM conversations) || ' conversations, user 1 in '
  || (SELECT count(*) FROM conversation_members WHERE user_id = 1) || ' of them'"

psql_db "$db" -v listquery="$bench/list-query.sql" <<'SQL'
SET plan_cache_mode = force_generic_plan;
\echo
\echo '== GET /api/conversations of user 1 (500 memberships), limit 1000'
\i :listquery
EXECUTE list_for_member(1, 1000) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE list_for_member(1, 1000);

\echo '== phx_join since: the catch-up of user 1, since the 1,000th newest message'
PREPARE newer_for_member(bigint, bigint, int) AS
WITH newer AS (
    SELECT m.id
    FROM conversation_members me
    CROSS JOIN LATERAL (SELECT m.id FROM messages m WHERE m.conversation_id = me.conversation_id AND m.id > $2
                        ORDER BY m.id LIMIT $3) m
    WHERE me.user_id = $1
    ORDER BY m.id LIMIT $3)
SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at
FROM newer JOIN messages m ON m.id = newer.id
ORDER BY m.id;
SELECT id AS recent FROM messages ORDER BY id DESC OFFSET 999 LIMIT 1 \gset
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE newer_for_member(1, :recent, 1000);
\echo '== phx_join since 0: the catch-up of user 1 from the start (170,000 messages in their conversations)'
EXECUTE newer_for_member(1, 0, 1000) \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE newer_for_member(1, 0, 1000);

\echo '== a history page of user 1 in conversation 401 (a group of 12,100 messages), limit 50 (+1)'
PREPARE history_for_member(bigint, bigint, bigint, int) AS
SELECT page.id, page.conversation_id, page.sender_id, page.content, page.date, page.client_id, page.inserted_at
FROM conversation_members me
LEFT JOIN LATERAL (SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at
                   FROM messages m WHERE m.conversation_id = me.conversation_id AND m.id < $3
                   ORDER BY m.id DESC LIMIT $4) page ON true
WHERE me.conversation_id = $1 AND me.user_id = $2
ORDER BY page.id DESC;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE history_for_member(401, 1, 9223372036854775807, 51);

\echo '== the batch INSERT: one message of user 1 to group 401 and one to direct conversation 1 (rolled back)'
PREPARE insert_batch(bigint[], bigint[], text[], timestamptz[], text[], bigint[]) AS
WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::bigint[])
        WITH ORDINALITY AS input (conversation_id, sender_id, content, date, client_id, recipient_id, position)),
members AS (
    SELECT c.id AS conversation_id, c.kind,
           ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id
                 ORDER BY cm.user_id) AS member_ids
    FROM conversations c WHERE c.id IN (SELECT conversation_id FROM input)),
stored AS (
    INSERT INTO messages (conversation_id, sender_id, content, date, client_id)
    SELECT input.conversation_id, input.sender_id, input.content, input.date, input.client_id
    FROM input JOIN members ON members.conversation_id = input.conversation_id
    WHERE input.sender_id = ANY (members.member_ids)
      AND (input.recipient_id IS NULL
           OR (members.kind = 'direct' AND input.recipient_id <> input.sender_id
               AND input.recipient_id = ANY (members.member_ids)))
    ORDER BY input.position
    ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
    RETURNING id, conversation_id, sender_id, content, date, client_id, inserted_at)
SELECT id, conversation_id, sender_id, content, date, client_id, inserted_at,
       NULL::varchar AS kind, NULL::bigint[] AS member_ids
FROM stored
UNION ALL
SELECT NULL, conversation_id, NULL, NULL, NULL, NULL, NULL, kind, member_ids FROM members;
BEGIN;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
EXECUTE insert_batch('{401,1}', '{1,1}', '{"to the group","to a pair"}', ARRAY[now(), now()], '{NULL,NULL}', '{NULL,2}');
ROLLBACK;
SQL
