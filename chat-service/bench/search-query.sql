-- MessageRepository.SEARCH as a prepared statement, for search-bench.sh's EXPLAIN, planned for its parameters on
-- every execution as the service's is (MessageRepository.CUSTOM_PLAN):
-- EXECUTE search_for_member(user, words, excluded words, before, conversation_id or NULL, limit + 1),
-- the words as a text[] of the query's terms (a term with spaces is a phrase), e.g. '{"quarterly roadmap"}'.
SET plan_cache_mode = force_custom_plan;
PREPARE search_for_member(bigint, text[], text[], bigint, bigint, int) AS
SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at, m.edited_at, m.deleted_at
FROM messages m
WHERE m.search @@ chat_search_query($2::text[], $3::text[])
  AND m.conversation_id IN (SELECT me.conversation_id FROM conversation_members me
                            WHERE me.user_id = $1 AND ($5::bigint IS NULL OR me.conversation_id = $5))
  AND m.id < $4 AND m.deleted_at IS NULL
ORDER BY m.id DESC
LIMIT $6;
