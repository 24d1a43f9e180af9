-- MessageRepository.SEARCH as a prepared statement, for search-bench.sh's EXPLAIN:
-- EXECUTE search_for_member(user, query, before, conversation_id or NULL, limit + 1).
PREPARE search_for_member(bigint, text, bigint, bigint, int) AS
SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at, m.edited_at, m.deleted_at
FROM messages m
WHERE m.search @@ websearch_to_tsquery('simple', $2)
  AND m.conversation_id IN (SELECT me.conversation_id FROM conversation_members me
                            WHERE me.user_id = $1 AND ($4::bigint IS NULL OR me.conversation_id = $4))
  AND m.id < $3 AND m.deleted_at IS NULL
ORDER BY m.id DESC
LIMIT $5;
