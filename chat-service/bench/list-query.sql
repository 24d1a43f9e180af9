-- GET /api/conversations: ConversationRepository.LIST_FOR_MEMBER as the service runs it (issue 16:
-- with the caller's read state, long unread ranges counted with message tallies (V7); issue 18: deleted messages
-- leave the unread count), prepared as list_for_member(user, limit). Used by explain.sh and
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
SELECT c.*, CASE WHEN c.kind = 'direct' THEN ARRAY[LEAST(c.sender_id, c.recipient_id), GREATEST(c.sender_id, c.recipient_id)]
                 ELSE ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id ORDER BY cm.user_id)
            END AS member_ids, marker.last_read_id AS read_id, unread.unread_count
FROM mine c CROSS JOIN LATERAL (SELECT c.user_id, c.last_read_id) me
CROSS JOIN LATERAL (SELECT GREATEST(me.last_read_id,
                        (SELECT max(own.id) FROM messages own
                         WHERE own.conversation_id = c.id AND own.sender_id = me.user_id)) AS last_read_id
                    OFFSET 0) marker
CROSS JOIN LATERAL (SELECT coalesce(marker.last_read_id, 0) AS after_id,
                           (SELECT count(*) FROM (SELECT FROM messages near
                                                  WHERE near.conversation_id = c.id
                                                    AND near.id > coalesce(marker.last_read_id, 0)
                                                  LIMIT 256) near) AS near
                    OFFSET 0) unread_range
CROSS JOIN LATERAL (SELECT CASE WHEN unread_range.near < 256 THEN unread_range.near ELSE (
                        SELECT CASE WHEN next_tally.upto_id IS NULL
                                    THEN (SELECT count(*) FROM messages newer
                                          WHERE newer.conversation_id = c.id AND newer.id > unread_range.after_id)
                                    ELSE (SELECT count(*) FROM messages newer
                                          WHERE newer.conversation_id = c.id AND newer.id > unread_range.after_id
                                            AND newer.id <= next_tally.upto_id)
                                         + newest_tally.position - next_tally.position
                                         + (SELECT count(*) FROM messages newer
                                            WHERE newer.conversation_id = c.id AND newer.id > newest_tally.upto_id) END
                        FROM (SELECT 1) one
                        LEFT JOIN LATERAL (SELECT t.upto_id, t.position FROM message_tallies t
                                           WHERE t.conversation_id = c.id ORDER BY t.upto_id DESC LIMIT 1) newest_tally ON true
                        LEFT JOIN LATERAL (SELECT t.upto_id, t.position FROM message_tallies t
                                           WHERE t.conversation_id = c.id AND t.upto_id > unread_range.after_id
                                           ORDER BY t.upto_id LIMIT 1) next_tally ON true) END
                        - (SELECT count(*) FROM messages gone
                           WHERE gone.conversation_id = c.id AND gone.id > unread_range.after_id
                             AND gone.deleted_at IS NOT NULL) AS unread_count) unread
ORDER BY c.activity DESC, c.id DESC;
