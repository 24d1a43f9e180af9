package io.companychat.chat.repository;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.Conversation;
import io.companychat.chat.Message;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Conversations and their members, on the reactive pool. Membership is {@code conversation_members}
 * for both kinds; every read for a user goes through it ({@code conversation_members_pkey} to check
 * one member, {@code conversation_members_user_idx} for a user's list).
 */
@ApplicationScoped
public class ConversationRepository {

    /**
     * A conversation as its members see it: the row, its members, its newest message (or null),
     * and, when read for one member, that member's read state (else null).
     */
    public record MemberConversation(Conversation conversation, Message lastMessage, ReadState readState) {
    }

    /** One member's read marker (null for none) and how many messages of others are newer than it. */
    public record ReadState(Long lastReadId, long unreadCount) {
    }

    /** What a membership change found once it held the conversation's row lock. */
    public record MembershipState(String kind, long creatorId, int memberCount, boolean callerIsMember,
            boolean userIsMember) {

        public boolean isGroup() {
            return Conversation.GROUP.equals(kind);
        }
    }

    private static final String COLUMNS = """
            c.id, c.kind, c.title, c.sender_id, c.recipient_id, c.status, c.inserted_at, c.updated_at""";

    /** The newest message of {@code c}: one probe of {@code messages_history_idx}. */
    private static final String LAST_MESSAGE = """
            LEFT JOIN LATERAL (SELECT m.id, m.sender_id, m.content, m.date, m.inserted_at, m.edited_at, m.deleted_at
                               FROM messages m
                               WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) last ON true""";

    private static final String LAST_COLUMNS = """
            last.id AS last_id, last.sender_id AS last_sender_id, last.content AS last_content,
            last.date AS last_date, last.inserted_at AS last_inserted_at, last.edited_at AS last_edited_at,
            last.deleted_at AS last_deleted_at""";

    /**
     * The read state of member {@code me} in {@code c}: the marker is the newer of the one they
     * moved and their own newest message (one probe of {@code messages_conversation_sender_idx});
     * every message after it is someone else's, so the unread count is the number of messages
     * after it minus the deleted ones after it (counted on {@code messages_deleted_idx}, which holds
     * deleted ones only). The messages after it are counted on {@code messages_history_idx}
     * (index-only): up to {@link TallyRepository#SPACING} of them as they are; beyond, with the
     * conversation's message tallies (migration V7): the range up to the first tally after the
     * marker, the difference of that tally's position and the last one's, and the range after the
     * last tally, so a month of unread costs a few hundred index entries, not all of them. Without a
     * tally after the marker (none written yet) the whole range is counted. {@code OFFSET 0} keeps
     * the marker and the near count from being computed once per use.
     */
    static final String READ_STATE = """
            CROSS JOIN LATERAL (SELECT GREATEST(me.last_read_id,
                                    (SELECT max(own.id) FROM messages own
                                     WHERE own.conversation_id = c.id AND own.sender_id = me.user_id)) AS last_read_id
                                OFFSET 0) marker
            CROSS JOIN LATERAL (SELECT coalesce(marker.last_read_id, 0) AS after_id,
                                       (SELECT count(*) FROM (SELECT FROM messages near
                                                              WHERE near.conversation_id = c.id
                                                                AND near.id > coalesce(marker.last_read_id, 0)
                                                              LIMIT %1$d) near) AS near
                                OFFSET 0) unread_range
            CROSS JOIN LATERAL (SELECT CASE WHEN unread_range.near < %1$d THEN unread_range.near ELSE (
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
                                         AND gone.deleted_at IS NOT NULL) AS unread_count) unread""".formatted(TallyRepository.SPACING);

    private static final String READ_COLUMNS = "marker.last_read_id AS read_id, unread.unread_count";

    /** A direct conversation's members are its two users for good (API.md: nobody leaves one): no lookup. */
    private static final String MEMBER_IDS = """
            CASE WHEN c.kind = 'direct' THEN ARRAY[LEAST(c.sender_id, c.recipient_id), GREATEST(c.sender_id, c.recipient_id)]
                 ELSE ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id ORDER BY cm.user_id)
            END AS member_ids""";

    static final String INSERT_DIRECT = """
            WITH c AS (
                INSERT INTO conversations (kind, sender_id, recipient_id) VALUES ('direct', $1, $2)
                ON CONFLICT ((LEAST(sender_id, recipient_id)), (GREATEST(sender_id, recipient_id))) WHERE kind = 'direct'
                DO NOTHING
                RETURNING *),
            members AS (
                INSERT INTO conversation_members (conversation_id, user_id, joined_at)
                SELECT c.id, member.id, c.inserted_at FROM c CROSS JOIN unnest(ARRAY[$1, $2]::bigint[]) AS member (id))
            SELECT * FROM c""";

    static final String FIND_DIRECT = """
            SELECT id FROM conversations
            WHERE kind = 'direct' AND LEAST(sender_id, recipient_id) = $1 AND GREATEST(sender_id, recipient_id) = $2""";

    static final String INSERT_GROUP = """
            WITH c AS (
                INSERT INTO conversations (kind, title, sender_id) VALUES ('group', $2, $1)
                RETURNING *),
            members AS (
                INSERT INTO conversation_members (conversation_id, user_id, joined_at)
                SELECT c.id, member.id, c.inserted_at FROM c CROSS JOIN unnest($3::bigint[]) AS member (id))
            SELECT * FROM c""";

    static final String FIND = """
            SELECT %s, %s, %s
            FROM conversations c
            %s
            WHERE c.id = $1""".formatted(COLUMNS, LAST_COLUMNS, MEMBER_IDS, LAST_MESSAGE);

    static final String FIND_FOR_MEMBER = """
            SELECT %s, %s, %s, %s
            FROM conversation_members me
            JOIN conversations c ON c.id = me.conversation_id
            %s
            %s
            WHERE me.conversation_id = $1 AND me.user_id = $2""".formatted(COLUMNS, LAST_COLUMNS, MEMBER_IDS, READ_COLUMNS,
            LAST_MESSAGE, READ_STATE);

    /**
     * The user's conversations, most recent activity first: the date of the newest message, or
     * when the user joined (for a direct conversation, its creation) if that is later or there is
     * no message. One probe of {@code messages_history_idx} per membership, then the top
     * {@code $2}; members and read state are read for those only.
     */
    static final String LIST_FOR_MEMBER = """
            WITH mine AS (
                SELECT %s, %s, me.user_id, me.last_read_id, GREATEST(last.date, me.joined_at) AS activity
                FROM conversation_members me
                JOIN conversations c ON c.id = me.conversation_id
                %s
                WHERE me.user_id = $1
                ORDER BY activity DESC, c.id DESC
                LIMIT $2)
            SELECT c.*, %s, %s FROM mine c CROSS JOIN LATERAL (SELECT c.user_id, c.last_read_id) me
            %s
            ORDER BY c.activity DESC, c.id DESC""".formatted(COLUMNS, LAST_COLUMNS, LAST_MESSAGE, MEMBER_IDS,
            READ_COLUMNS, READ_STATE);

    static final String RENAME = "UPDATE conversations SET title = $2, updated_at = clock_timestamp() WHERE id = $1";

    /** Membership changes of one conversation take turns on its row (not a key lock: messages keep flowing). */
    static final String LOCK = "SELECT kind, sender_id FROM conversations WHERE id = $1 FOR NO KEY UPDATE";

    /** Read after the lock is held, so in a snapshot that includes every change committed before. */
    static final String MEMBERSHIP = """
            SELECT count(*) AS members, coalesce(bool_or(user_id = $2), false) AS caller_is_member,
                   coalesce(bool_or(user_id = $3), false) AS user_is_member
            FROM conversation_members WHERE conversation_id = $1""";

    /** {@code clock_timestamp()}: the time of the change under the lock, so later changes have later times. */
    static final String ADD_MEMBER = """
            WITH added AS (INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2))
            UPDATE conversations SET updated_at = clock_timestamp() WHERE id = $1""";

    static final String REMOVE_MEMBER = """
            WITH removed AS (DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2)
            UPDATE conversations SET updated_at = clock_timestamp() WHERE id = $1""";

    private final Pool pool;

    public ConversationRepository(Pool pool) {
        this.pool = pool;
    }

    /**
     * Inserts the pair, with its two members, unless it exists in either order. A concurrent
     * insert of the same pair ends in {@code DO NOTHING}, not in a unique violation.
     *
     * @return the new conversation, or null when the pair already had one
     */
    public Uni<Conversation> insertDirectIfAbsent(long senderId, long recipientId) {
        return pool.preparedQuery(INSERT_DIRECT).execute(Tuple.of(senderId, recipientId))
                .map(rows -> firstOrNull(rows, row -> conversation(row, sorted(senderId, recipientId))));
    }

    /** The id of the pair's direct conversation, whichever of the two started it, or null. */
    public Uni<Long> findDirectId(long userId, long otherUserId) {
        return pool.preparedQuery(FIND_DIRECT)
                .execute(Tuple.of(Math.min(userId, otherUserId), Math.max(userId, otherUserId)))
                .map(rows -> firstOrNull(rows, row -> row.getLong("id")));
    }

    /** A new group with its members ({@code memberIds} ascending, the creator among them), in one statement. */
    public Uni<Conversation> insertGroup(SqlConnection transaction, long creatorId, String title, List<Long> memberIds) {
        return transaction.preparedQuery(INSERT_GROUP)
                .execute(Tuple.of(creatorId, title, memberIds.toArray(Long[]::new)))
                .map(rows -> firstOrNull(rows, row -> conversation(row, memberIds)));
    }

    /** The conversation whoever asks; for live pushes, which go to its members. Null if there is none. */
    public Uni<MemberConversation> find(long conversationId) {
        return find(pool, conversationId);
    }

    /** As {@link #find(long)}, within a transaction. */
    public Uni<MemberConversation> find(SqlClient client, long conversationId) {
        return client.preparedQuery(FIND).execute(Tuple.of(conversationId))
                .map(rows -> firstOrNull(memberConversations(rows)));
    }

    /**
     * The conversation, with the read state of {@code userId}, if they are a member of it now; null
     * for anyone else and for unknown ids alike.
     */
    public Uni<MemberConversation> findForMember(long conversationId, long userId) {
        return findForMember(pool, conversationId, userId);
    }

    /** As {@link #findForMember(long, long)}, within a transaction. */
    public Uni<MemberConversation> findForMember(SqlClient client, long conversationId, long userId) {
        return client.preparedQuery(FIND_FOR_MEMBER).execute(Tuple.of(conversationId, userId))
                .map(rows -> firstOrNull(memberConversations(rows)));
    }

    /** At most {@code limit} of the user's conversations, most recent activity first. */
    public Uni<List<MemberConversation>> listForMember(long userId, int limit) {
        return pool.preparedQuery(LIST_FOR_MEMBER).execute(Tuple.of(userId, limit)).map(ConversationRepository::memberConversations);
    }

    /** Renames a group (whose row lock the transaction holds). */
    public Uni<Void> rename(SqlConnection transaction, long conversationId, String title) {
        return transaction.preparedQuery(RENAME).execute(Tuple.of(conversationId, title)).replaceWithVoid();
    }

    /** Runs {@code work} in one transaction: committed when its Uni succeeds, rolled back when it fails. */
    public <T> Uni<T> inTransaction(Function<SqlConnection, Uni<T>> work) {
        return pool.withTransaction(work);
    }

    /**
     * Takes the conversation's row lock for the rest of the transaction, then reads its membership
     * as it is once every earlier change has committed. Null when there is no such conversation.
     */
    public Uni<MembershipState> lockForMembershipChange(SqlConnection transaction, long conversationId, long callerId,
            long userId) {
        return transaction.preparedQuery(LOCK).execute(Tuple.of(conversationId)).chain(locked -> {
            Iterator<Row> found = locked.iterator();
            if (!found.hasNext()) {
                return Uni.createFrom().nullItem();
            }
            Row conversation = found.next();
            return transaction.preparedQuery(MEMBERSHIP).execute(Tuple.of(conversationId, callerId, userId))
                    .map(rows -> {
                        Row row = rows.iterator().next();
                        return new MembershipState(conversation.getString("kind"), conversation.getLong("sender_id"),
                                row.getLong("members").intValue(), row.getBoolean("caller_is_member"),
                                row.getBoolean("user_is_member"));
                    });
        });
    }

    public Uni<Void> addMember(SqlConnection transaction, long conversationId, long userId) {
        return transaction.preparedQuery(ADD_MEMBER).execute(Tuple.of(conversationId, userId)).replaceWithVoid();
    }

    public Uni<Void> removeMember(SqlConnection transaction, long conversationId, long userId) {
        return transaction.preparedQuery(REMOVE_MEMBER).execute(Tuple.of(conversationId, userId)).replaceWithVoid();
    }

    /**
     * The rows as conversations. Columns are looked up by name once per result, not once per row
     * and column: the client's lookup by name is a linear search of the result's column names, 5 %
     * of the service's time when listing 500 conversations.
     */
    private static List<MemberConversation> memberConversations(RowSet<Row> rows) {
        List<MemberConversation> found = new ArrayList<>(rows.size());
        if (rows.size() == 0) {
            return found;
        }
        Map<String, Integer> columns = new HashMap<>();
        List<String> names = rows.columnsNames();
        for (int i = 0; i < names.size(); i++) {
            columns.put(names.get(i), i);
        }
        int id = columns.get("id");
        int kind = columns.get("kind");
        int title = columns.get("title");
        int senderId = columns.get("sender_id");
        int recipientId = columns.get("recipient_id");
        int status = columns.get("status");
        int insertedAt = columns.get("inserted_at");
        int updatedAt = columns.get("updated_at");
        int memberIds = columns.get("member_ids");
        int lastId = columns.get("last_id");
        int lastSenderId = columns.get("last_sender_id");
        int lastContent = columns.get("last_content");
        int lastDate = columns.get("last_date");
        int lastInsertedAt = columns.get("last_inserted_at");
        int lastEditedAt = columns.get("last_edited_at");
        int lastDeletedAt = columns.get("last_deleted_at");
        Integer readId = columns.get("read_id");
        Integer unreadCount = columns.get("unread_count");
        for (Row row : rows) {
            Long[] members = row.getArrayOfLongs(memberIds);
            Conversation conversation = new Conversation(row.getLong(id), row.getString(kind), row.getString(title),
                    row.getLong(senderId), row.getLong(recipientId), row.getString(status), instant(row, insertedAt),
                    instant(row, updatedAt), members == null ? List.of() : List.of(members));
            Long last = row.getLong(lastId);
            Message lastMessage = last == null ? null
                    : new Message(last, conversation.id(), row.getLong(lastSenderId), row.getString(lastContent),
                            instant(row, lastDate), null, instant(row, lastInsertedAt), instant(row, lastEditedAt),
                            instant(row, lastDeletedAt));
            ReadState readState = unreadCount == null ? null
                    : new ReadState(row.getLong(readId), row.getLong(unreadCount));
            found.add(new MemberConversation(conversation, lastMessage, readState));
        }
        return found;
    }

    private static Conversation conversation(Row row, List<Long> memberIds) {
        return new Conversation(row.getLong("id"), row.getString("kind"), row.getString("title"),
                row.getLong("sender_id"), row.getLong("recipient_id"), row.getString("status"),
                instant(row, "inserted_at"), instant(row, "updated_at"), List.copyOf(memberIds));
    }

    private static List<Long> sorted(long a, long b) {
        return a < b ? List.of(a, b) : List.of(b, a);
    }

    static Instant instant(Row row, String column) {
        var value = row.getOffsetDateTime(column);
        return value == null ? null : value.toInstant();
    }

    private static Instant instant(Row row, int column) {
        var value = row.getOffsetDateTime(column);
        return value == null ? null : value.toInstant();
    }

    private static <T> T firstOrNull(List<T> found) {
        return found.isEmpty() ? null : found.get(0);
    }

    private static <T> T firstOrNull(RowSet<Row> rows, Function<Row, T> mapping) {
        Iterator<Row> found = rows.iterator();
        return found.hasNext() ? mapping.apply(found.next()) : null;
    }
}
