package io.companychat.chat.repository;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Read markers (API.md Part 2, "Read state") and the member lists of live signals, on the reactive
 * pool. A member's marker is the newer of {@code conversation_members.last_read_id} and their own
 * newest message in the conversation (see the V4 migration), so sending never writes it.
 */
@ApplicationScoped
public class ReadRepository {

    /**
     * Moves markers, a batch at once (a group commit, see {@code ReadService}): each input row
     * ({@code $1} conversation, {@code $2} member, {@code $3} message, in order) moves its member's
     * marker to the message if that is a message of the conversation and newer than the marker.
     * Several rows of one member and conversation in a batch move it once, to the newest, and only
     * the first row naming that message counts as the move. The membership rows are locked in key
     * order before the UPDATE, so two batches never deadlock; two devices marking at once take turns
     * on the row, and the second one's {@code last_read_id <} is checked again against the first
     * one's (READ COMMITTED re-reads the row it waited for), so a marker never moves backwards.
     * One answer row per input row, in order: {@code member} false for a non-member.
     */
    static final String MARK_READ = """
            WITH input AS (
                SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY
                    AS i (conversation_id, user_id, message_id, position)),
            checked AS (
                SELECT i.position, i.conversation_id, i.user_id, i.message_id,
                       EXISTS (SELECT 1 FROM conversation_members me
                               WHERE me.conversation_id = i.conversation_id AND me.user_id = i.user_id) AS member,
                       EXISTS (SELECT 1 FROM messages m WHERE m.id = i.message_id AND m.conversation_id = i.conversation_id)
                           AS found,
                       i.position = min(i.position) OVER (PARTITION BY i.conversation_id, i.user_id, i.message_id) AS first
                FROM input i),
            wanted AS (
                SELECT conversation_id, user_id, max(message_id) AS message_id
                FROM checked WHERE member AND found GROUP BY conversation_id, user_id),
            locked AS (
                SELECT cm.conversation_id, cm.user_id
                FROM conversation_members cm
                JOIN wanted w ON w.conversation_id = cm.conversation_id AND w.user_id = cm.user_id
                ORDER BY cm.conversation_id, cm.user_id
                FOR NO KEY UPDATE OF cm),
            moved AS (
                UPDATE conversation_members cm SET last_read_id = w.message_id
                FROM wanted w JOIN locked l ON l.conversation_id = w.conversation_id AND l.user_id = w.user_id
                WHERE cm.conversation_id = w.conversation_id AND cm.user_id = w.user_id
                  AND (cm.last_read_id IS NULL OR cm.last_read_id < w.message_id)
                  AND w.message_id > coalesce((SELECT max(own.id) FROM messages own
                                               WHERE own.conversation_id = w.conversation_id AND own.sender_id = w.user_id), 0)
                RETURNING cm.conversation_id, cm.user_id, cm.last_read_id)
            SELECT c.member, c.found,
                   c.first AND EXISTS (SELECT 1 FROM moved mv
                                       WHERE mv.conversation_id = c.conversation_id AND mv.user_id = c.user_id
                                         AND mv.last_read_id = c.message_id) AS moved,
                   CASE WHEN c.member THEN ARRAY(SELECT m.user_id FROM conversation_members m
                                                 WHERE m.conversation_id = c.conversation_id ORDER BY m.user_id) END
                       AS member_ids
            FROM checked c
            ORDER BY c.position""";

    /**
     * One mark alone, the same rules in a lighter statement: no input to unnest, aggregate and lock in
     * order (a single row cannot deadlock). A quiet service writes each mark alone, and there this costs
     * PostgreSQL ~15 % less per mark than {@link #MARK_READ} of one row (pgbench, 0.98 vs 1.15 ms per
     * transaction with its commit). No row: not a member.
     */
    static final String MARK_ONE = """
            WITH me AS (
                SELECT user_id FROM conversation_members WHERE conversation_id = $1 AND user_id = $2),
            target AS (
                SELECT EXISTS (SELECT 1 FROM messages WHERE id = $3 AND conversation_id = $1) AS found),
            moved AS (
                UPDATE conversation_members cm SET last_read_id = $3
                FROM me, target
                WHERE cm.conversation_id = $1 AND cm.user_id = $2 AND target.found
                  AND (cm.last_read_id IS NULL OR cm.last_read_id < $3)
                  AND $3 > coalesce((SELECT max(own.id) FROM messages own
                                     WHERE own.conversation_id = $1 AND own.sender_id = $2), 0)
                RETURNING cm.user_id)
            SELECT target.found, EXISTS (SELECT 1 FROM moved) AS moved,
                   ARRAY(SELECT m.user_id FROM conversation_members m WHERE m.conversation_id = $1 ORDER BY m.user_id)
                   AS member_ids
            FROM me, target""";

    /** Every member's marker, for a member ({@code $2}); no row for anyone else. */
    static final String MARKERS = """
            SELECT cm.user_id, GREATEST(cm.last_read_id,
                       (SELECT max(own.id) FROM messages own
                        WHERE own.conversation_id = cm.conversation_id AND own.sender_id = cm.user_id)) AS message_id
            FROM conversation_members cm
            WHERE cm.conversation_id = $1
              AND EXISTS (SELECT 1 FROM conversation_members me WHERE me.conversation_id = $1 AND me.user_id = $2)
            ORDER BY cm.user_id""";

    static final String MEMBERS = "SELECT user_id FROM conversation_members WHERE conversation_id = $1 ORDER BY user_id";

    /** A marker to move: {@code userId}'s in the conversation, to {@code messageId}. */
    public record Mark(long conversationId, long userId, long messageId) {
    }

    /** What {@link #markRead} found: whether the message is one of the conversation's, whether the marker moved. */
    public record Marked(boolean messageFound, boolean moved, long[] memberIds) {
    }

    /** One member's marker; {@code messageId} null for none. */
    public record Marker(long userId, Long messageId) {
    }

    private final Pool pool;

    public ReadRepository(Pool pool) {
        this.pool = pool;
    }

    /**
     * Moves the markers of a batch in one statement.
     *
     * @return what became of each, in order; null where the user is not a member
     */
    public Uni<List<Marked>> markRead(List<Mark> marks) {
        if (marks.size() == 1) {
            Mark mark = marks.get(0);
            return pool.preparedQuery(MARK_ONE).execute(Tuple.of(mark.conversationId(), mark.userId(), mark.messageId()))
                    .map(rows -> {
                        List<Marked> marked = new ArrayList<>(1);
                        marked.add(rows.size() == 0 ? null : marked(rows.iterator().next()));
                        return marked;
                    });
        }
        Long[] conversations = new Long[marks.size()];
        Long[] users = new Long[marks.size()];
        Long[] messages = new Long[marks.size()];
        for (int i = 0; i < marks.size(); i++) {
            conversations[i] = marks.get(i).conversationId();
            users[i] = marks.get(i).userId();
            messages[i] = marks.get(i).messageId();
        }
        return pool.preparedQuery(MARK_READ).execute(Tuple.of(conversations, users, messages)).map(rows -> {
            List<Marked> marked = new ArrayList<>(marks.size());
            for (Row row : rows) {
                marked.add(row.getBoolean("member") ? marked(row) : null);
            }
            return marked;
        });
    }

    /** @return every member's marker, ascending by user, or null when {@code userId} is not a member */
    public Uni<List<Marker>> markers(long conversationId, long userId) {
        return pool.preparedQuery(MARKERS).execute(Tuple.of(conversationId, userId)).map(rows -> {
            if (rows.size() == 0) {
                return null;
            }
            List<Marker> markers = new ArrayList<>(rows.size());
            rows.forEach(row -> markers.add(new Marker(row.getLong("user_id"), row.getLong("message_id"))));
            return markers;
        });
    }

    /** The conversation's members now, ascending; empty when there is no such conversation. */
    public Uni<long[]> members(long conversationId) {
        return pool.preparedQuery(MEMBERS).execute(Tuple.of(conversationId)).map(rows -> {
            long[] ids = new long[rows.size()];
            int i = 0;
            for (Row row : rows) {
                ids[i++] = row.getLong("user_id");
            }
            return ids;
        });
    }

    private static Marked marked(Row row) {
        return new Marked(row.getBoolean("found"), row.getBoolean("moved"), longs(row.getArrayOfLongs("member_ids")));
    }

    private static long[] longs(Long[] ids) {
        long[] values = new long[ids == null ? 0 : ids.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = ids[i];
        }
        return values;
    }
}
