-- GET /api/conversations: ConversationRepository.LIST_FOR_MEMBER as the service runs it (issue 16:
-- with the caller's read state; issue 18: deleted messages leave the unread count), prepared as list_for_member(user, limit). Used by explain.sh and
-- read-bench.sh (\i); keep it in step with the repository.
PREPARE list_for_member(bigint, int) AS
WITH mine AS (
    SELECT c.id, c.kind, c.title, c.sender_id, c.recipient_id, c.status, c.inserted_at, c.updated_at,
           last.id AS last_id, last.sender_id AS last_sender_id, last.content AS last_content,
           last.date AS last_date, last.inserted_at AS last_inserted_at, last.edited_at AS last_edited_at,
           last.deleted_at AS last_deleted_at,
           me.user_id, me.last_read_id, GREATEST(last.date, me.joined_at) AS activity
    FROM conversation_members me
    JOIN conversations c ON c.id = me.conversation_id
    LEFT JOIN LATERAL (SELECT m.id, m.sender_id, m.content, m.date, m.inserted_at, m.edited_at, m.deleted_at
                       FROM messages m
                       WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) last ON true
    WHERE me.user_id = $1
    ORDER BY activity DESC, c.id DESC
    LIMIT $2)
SELECT c.*, ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id ORDER BY cm.user_id)
       AS member_ids, marker.last_read_id AS read_id, unread.unread_count
FROM mine c CROSS JOIN LATERAL (SELECT c.user_id, c.last_read_id) me
LEFT JOIN LATERAL (SELECT GREATEST(me.last_read_id,
                       (SELECT max(own.id) FROM messages own
                        WHERE own.conversation_id = c.id AND own.sender_id = me.user_id)) AS last_read_id) marker ON true
LEFT JOIN LATERAL (SELECT (SELECT count(*) FROM messages newer
                           WHERE newer.conversation_id = c.id AND newer.id > coalesce(marker.last_read_id, 0))
                        - (SELECT count(*) FROM messages gone
                           WHERE gone.conversation_id = c.id AND gone.id > coalesce(marker.last_read_id, 0)
                             AND gone.deleted_at IS NOT NULL) AS unread_count) unread ON true
ORDER BY c.activity DESC, c.id DESC;
