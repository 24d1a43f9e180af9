package io.companychat.chat.repository;

import java.util.ArrayList;
import java.util.Iterator;
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
     * Moves {@code $2}'s marker in {@code $1} to message {@code $3} if that is a message of the
     * conversation and newer than the marker, in one statement. No row: not a member. Two devices
     * marking at once take turns on the membership row, and the second one's {@code last_read_id <
     * $3} is checked again against the first one's (READ COMMITTED re-reads the row it waited for),
     * so a marker never moves backwards.
     */
    static final String MARK_READ = """
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

    /** @return what became of the marker, or null when {@code userId} is not a member */
    public Uni<Marked> markRead(long conversationId, long userId, long messageId) {
        return pool.preparedQuery(MARK_READ).execute(Tuple.of(conversationId, userId, messageId)).map(rows -> {
            Iterator<Row> found = rows.iterator();
            if (!found.hasNext()) {
                return null;
            }
            Row row = found.next();
            return new Marked(row.getBoolean("found"), row.getBoolean("moved"), longs(row.getArrayOfLongs("member_ids")));
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

    private static long[] longs(Long[] ids) {
        long[] values = new long[ids == null ? 0 : ids.length];
        for (int i = 0; i < values.length; i++) {
            values[i] = ids[i];
        }
        return values;
    }
}
