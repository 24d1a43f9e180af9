package io.companychat.chat.repository;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Read markers (API.md Part 2, "Read state") and the member lists of live signals, on the reactive
 * pool. A member's marker is the newer of {@code conversation_members.last_read_id} and their own
 * newest message in the conversation (see the V4 migration), so sending never writes it.
 */
@ApplicationScoped
public class ReadRepository {

    /**
     * Moves one marker ({@code $2}'s in conversation {@code $1}) to message {@code $3} if that is a message of the
     * conversation, newer than the marker and newer than the member's own newest message there. No row: not a member.
     * A batch runs it once per mark, pipelined in one transaction (see {@link #markRead}).
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
     * Moves the markers of a batch (a group commit, see {@code ReadService}): {@link #MARK_ONE} once per mark, all of
     * them in one round trip and one transaction (one commit). Pipelined rather than one statement over arrays: such a
     * statement was planned anew at every run (PostgreSQL never keeps a generic plan for an {@code unnest} of
     * parameters: 0.45 ms per batch, more than its execution), where {@code MARK_ONE} keeps its generic plan.
     * <p>
     * The marks run in the order of (conversation, member, message descending), so the membership rows are locked
     * in key order and two batches never deadlock, and several marks of one member and conversation move the marker
     * once, to the newest (the older ones find it newer already); of several marks of one message, the first one
     * given counts as the move. Two devices marking at once in two batches take turns on the row, and the second
     * one's {@code last_read_id <} is checked again against the first one's committed value (READ COMMITTED re-reads
     * the row it waited for), so a marker never moves backwards.
     *
     * @return what became of each, in the order given; null where the user is not a member
     */
    public Uni<List<Marked>> markRead(List<Mark> marks) {
        Integer[] order = new Integer[marks.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingLong(i -> marks.get(i).conversationId())
                .thenComparingLong(i -> marks.get(i).userId())
                .thenComparing(Comparator.<Integer>comparingLong(i -> marks.get(i).messageId()).reversed()));
        List<Tuple> tuples = new ArrayList<>(order.length);
        for (Integer i : order) {
            tuples.add(tuple(marks.get(i)));
        }
        return pool.preparedQuery(MARK_ONE).executeBatch(tuples).map(first -> {
            Marked[] marked = new Marked[order.length];
            RowSet<Row> rows = first;
            for (Integer i : order) {
                marked[i] = marked(rows);
                rows = rows.next();
            }
            return Arrays.asList(marked);
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

    private static Tuple tuple(Mark mark) {
        return Tuple.of(mark.conversationId(), mark.userId(), mark.messageId());
    }

    /** {@link #MARK_ONE}'s answer; null when it has no row (not a member). */
    private static Marked marked(RowSet<Row> rows) {
        if (rows.size() == 0) {
            return null;
        }
        Row row = rows.iterator().next();
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
