package io.companychat.chat.repository;

import static io.companychat.chat.repository.ConversationRepository.instant;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.Conversation;
import io.companychat.chat.Message;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Messages, on the reactive pool. Every read and write checks membership in the same statement
 * (against {@code conversation_members} as it is when the statement runs), so a member removed on
 * any replica is refused at once, with no cache to invalidate.
 */
@ApplicationScoped
public class MessageRepository {

    /**
     * The batch INSERT of the write path (group commit). {@code members} reads each conversation's
     * members once; only rows whose sender is one of them (and, when the socket named a recipient,
     * whose conversation is direct with that recipient) are inserted, in the order of the batch.
     * The statement returns the inserted rows and, for each conversation of the batch, its kind and
     * members: who the message goes to live, as of the same snapshot.
     */
    static final String INSERT_BATCH = """
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
                RETURNING id, conversation_id, sender_id, content, date, client_id, inserted_at, edited_at, deleted_at)
            SELECT id, conversation_id, sender_id, content, date, client_id, inserted_at, edited_at, deleted_at,
                   NULL::varchar AS kind, NULL::bigint[] AS member_ids
            FROM stored
            UNION ALL
            SELECT NULL, conversation_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, kind, member_ids FROM members""";

    /** The columns of a message as the API shows it. */
    static final String COLUMNS = "id, conversation_id, sender_id, content, date, client_id, inserted_at, edited_at, deleted_at";

    static final String FIND_BY_CLIENT_ID = """
            SELECT %s
            FROM messages WHERE sender_id = $1 AND client_id = $2""".formatted(COLUMNS);

    static final String FIND_BY_ID = """
            SELECT %s
            FROM messages WHERE id = $1""".formatted(COLUMNS);

    /**
     * A history page for a member: no row at all when {@code $2} is not a member, one row of nulls
     * for an empty page. Keyset on {@code messages_history_idx}.
     */
    static final String HISTORY_FOR_MEMBER = """
            SELECT page.id, page.conversation_id, page.sender_id, page.content, page.date, page.client_id, page.inserted_at,
                   page.edited_at, page.deleted_at
            FROM conversation_members me
            LEFT JOIN LATERAL (SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at,
                                      m.edited_at, m.deleted_at
                               FROM messages m WHERE m.conversation_id = me.conversation_id AND m.id < $3
                               ORDER BY m.id DESC LIMIT $4) page ON true
            WHERE me.conversation_id = $1 AND me.user_id = $2
            ORDER BY page.id DESC""";

    /**
     * The socket's catch-up: messages after {@code $2} in the conversations the user is a member of
     * now, oldest first. Per membership one range scan of {@code messages_history_idx} for ids only
     * (index-only), at most {@code $3} each; the first {@code $3} ids of them all; then those rows.
     */
    static final String NEWER_FOR_MEMBER = """
            WITH newer AS (
                SELECT m.id
                FROM conversation_members me
                CROSS JOIN LATERAL (SELECT m.id FROM messages m WHERE m.conversation_id = me.conversation_id AND m.id > $2
                                      AND m.id <> $4 ORDER BY m.id LIMIT $3) m
                WHERE me.user_id = $1
                ORDER BY m.id LIMIT $3)
            SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at, m.edited_at,
                   m.deleted_at
            FROM newer JOIN messages m ON m.id = newer.id
            ORDER BY m.id""";

    /**
     * Where a catch-up from {@code since} starts: the newest message below it stored more than the overlap ($2 ms)
     * before it (null: none, all are newer); no row: no such message. A backward walk of the primary key from
     * {@code since} over what every conversation stored in the overlap, then one row: the messages of that window are
     * the only ones read (see {@link #replayFrom}).
     */
    static final String OVERLAP_BOUND = """
            SELECT (SELECT b.id FROM messages b WHERE b.id < s.id AND b.inserted_at < s.inserted_at - $2 * interval '1 millisecond'
                    ORDER BY b.id DESC LIMIT 1) AS below
            FROM messages s WHERE s.id = $1""";

    /** The newest message stored before $1 (0: none): a backward walk of the primary key over what was stored since. */
    static final String LAST_STORED_BEFORE = """
            SELECT coalesce((SELECT b.id FROM messages b WHERE b.inserted_at < $1 ORDER BY b.id DESC LIMIT 1), 0) AS id""";

    /**
     * The messages after $2 of every conversation any of the users $1 is a member of, at most $3 per conversation,
     * oldest first.
     */
    static final String NEWER_FOR_MEMBERS = """
            SELECT m.*
            FROM (SELECT DISTINCT me.conversation_id FROM conversation_members me WHERE me.user_id = ANY ($1)) c
            CROSS JOIN LATERAL (SELECT %s FROM messages m WHERE m.conversation_id = c.conversation_id AND m.id > $2
                                ORDER BY m.id LIMIT $3) m
            ORDER BY m.id""".formatted(COLUMNS);

    /** The members now of each of the conversations $1. */
    static final String MEMBERS_OF_EACH = """
            SELECT c.id, ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = c.id
                               ORDER BY cm.user_id) AS member_ids
            FROM unnest($1::bigint[]) AS c (id)""";

    /** Whom an edit or delete is about: the conversation's members now. */
    private static final String MEMBERS_OF_M = """
            ARRAY(SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = m.conversation_id
                  ORDER BY cm.user_id) AS member_ids""";

    /** The sender's own live message, while they are a member: replaced in place (the old text is gone). */
    static final String EDIT = """
            UPDATE messages m SET content = $4, edited_at = clock_timestamp(), updated_at = clock_timestamp()
            WHERE m.id = $2 AND m.conversation_id = $1 AND m.sender_id = $3 AND m.deleted_at IS NULL
              AND EXISTS (SELECT 1 FROM conversation_members me WHERE me.conversation_id = $1 AND me.user_id = $3)
            RETURNING %s, %s""".formatted(prefixed("m.", COLUMNS), MEMBERS_OF_M);

    /** The sender's own live message becomes a tombstone: no content, {@code deleted_at}. */
    static final String DELETE = """
            UPDATE messages m SET content = NULL, deleted_at = clock_timestamp(), updated_at = clock_timestamp()
            WHERE m.id = $2 AND m.conversation_id = $1 AND m.sender_id = $3 AND m.deleted_at IS NULL
              AND EXISTS (SELECT 1 FROM conversation_members me WHERE me.conversation_id = $1 AND me.user_id = $3)
            RETURNING %s, %s""".formatted(prefixed("m.", COLUMNS), MEMBERS_OF_M);

    /** Why an edit or delete changed nothing: no row (not a member, not a message of it), else its sender and state. */
    static final String STANDING = """
            SELECT m.sender_id, m.deleted_at IS NOT NULL AS deleted FROM messages m
            WHERE m.id = $2 AND m.conversation_id = $1
              AND EXISTS (SELECT 1 FROM conversation_members me WHERE me.conversation_id = $1 AND me.user_id = $3)""";

    /**
     * Full-text search over the conversations {@code $1} is a member of now (or one of them, {@code $5}),
     * newest first before {@code $4}: the generated {@code search} column ({@code messages_search_idx}) against
     * {@code chat_search_query($2, $3)} (V8), the tsquery of the terms that must occur ({@code $2}) and those that
     * must not ({@code $3}), each folded as the messages are and searched as a phrase of its words, joined by AND;
     * NULL, and so nothing found, when no term has a word. Tombstones have an empty vector and are left out too.
     */
    static final String SEARCH = """
            SELECT %s FROM messages m
            WHERE m.search @@ chat_search_query($2::text[], $3::text[])
              AND m.conversation_id IN (SELECT me.conversation_id FROM conversation_members me
                                        WHERE me.user_id = $1 AND ($5::bigint IS NULL OR me.conversation_id = $5))
              AND m.id < $4 AND m.deleted_at IS NULL
            ORDER BY m.id DESC
            LIMIT $6""".formatted(prefixed("m.", COLUMNS));

    /**
     * The search is planned for its own words every time: the best plan depends on how common they are (a
     * common word: the newest messages, filtered; a rare one: the search index), and the generic plan that
     * PostgreSQL settles on for a prepared statement after five runs intersects the search index with each
     * conversation's messages, over a second per search for a word in half of 1,000,000 messages
     * (search-bench.sh). A custom plan also evaluates {@code chat_search_query} (immutable, of constants) once,
     * while planning, into the constant tsquery the planner weighs; a generic plan would call it for every row it
     * filters.
     */
    static final String CUSTOM_PLAN = "SET LOCAL plan_cache_mode = force_custom_plan";

    static final String IS_MEMBER = "SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2";

    /** An edit or delete: the message as it is now and the members it goes to; null when nothing changed. */
    public record Changed(Message message, long[] memberIds) {
    }

    /** Who may change a message: its sender, and whether it is deleted already. */
    public record Standing(long senderId, boolean deleted) {
    }

    /**
     * A message to insert. {@code clientId} is the sender's optional idempotency key;
     * {@code recipientId}, when the socket named one, must be the other member of a direct conversation.
     */
    public record NewRow(long conversationId, long senderId, String content, Instant date, String clientId,
            Long recipientId) {
    }

    /** What became of one row of a batch. */
    public enum Fate {
        /** Inserted: {@code message} and the members it goes to ({@code memberIds}). */
        STORED,
        /** The sender already used the client id; nothing inserted. */
        DUPLICATE,
        /** The sender is not a member (or there is no such conversation); nothing inserted. */
        NOT_MEMBER,
        /** The named recipient is not the other member of this direct conversation; nothing inserted. */
        WRONG_RECIPIENT,
        /** A recipient was named for a group, where there is none; nothing inserted. */
        RECIPIENT_IN_GROUP
    }

    public record Written(Fate fate, Message message, long[] memberIds) {

        static final Written DUPLICATE = new Written(Fate.DUPLICATE, null, null);
        static final Written NOT_MEMBER = new Written(Fate.NOT_MEMBER, null, null);
        static final Written WRONG_RECIPIENT = new Written(Fate.WRONG_RECIPIENT, null, null);
        static final Written RECIPIENT_IN_GROUP = new Written(Fate.RECIPIENT_IN_GROUP, null, null);
    }

    private final Pool pool;

    public MessageRepository(Pool pool) {
        this.pool = pool;
    }

    /**
     * Inserts the rows that may be inserted in one statement, and so in one transaction: all of
     * them are committed when this succeeds, none when it fails. A row whose sender already used
     * its client id (in the database, or earlier in the same batch) is skipped: a racing insert of
     * the same key waits on {@code messages_sender_client_id_key} for the first to commit, then
     * does nothing.
     *
     * @return for each row, in order, what became of it
     */
    public Uni<List<Written>> insertBatch(List<NewRow> rows) {
        int size = rows.size();
        Long[] conversations = new Long[size];
        Long[] senders = new Long[size];
        String[] contents = new String[size];
        OffsetDateTime[] dates = new OffsetDateTime[size];
        String[] clientIds = new String[size];
        Long[] recipients = new Long[size];
        for (int i = 0; i < size; i++) {
            NewRow row = rows.get(i);
            conversations[i] = row.conversationId();
            senders[i] = row.senderId();
            contents[i] = row.content();
            dates[i] = row.date().atOffset(ZoneOffset.UTC);
            clientIds[i] = row.clientId();
            recipients[i] = row.recipientId();
        }
        return pool.preparedQuery(INSERT_BATCH)
                .execute(Tuple.of(conversations, senders, contents, dates, clientIds, recipients))
                .map(result -> matchToRows(rows, result));
    }

    /** The message the sender stored with this client id, or null. */
    public Uni<Message> findByClientId(long senderId, String clientId) {
        return pool.preparedQuery(FIND_BY_CLIENT_ID).execute(Tuple.of(senderId, clientId))
                .map(MessageRepository::firstOrNull);
    }

    public Uni<Message> findById(long id) {
        return pool.preparedQuery(FIND_BY_ID).execute(Tuple.of(id)).map(MessageRepository::firstOrNull);
    }

    /**
     * Up to {@code size} messages of the conversation, newest first, older than {@code beforeId}
     * when given: a keyset read of {@code messages_history_idx}, as fast on page 1000 as on page 1,
     * and unaffected by messages that arrive meanwhile (they have higher ids).
     *
     * @return the page, or null when {@code userId} is not a member of the conversation
     */
    public Uni<List<Message>> historyForMember(long conversationId, long userId, Long beforeId, int size) {
        long before = beforeId == null ? Long.MAX_VALUE : beforeId;
        return pool.preparedQuery(HISTORY_FOR_MEMBER).execute(Tuple.of(conversationId, userId, before, size))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    List<Message> page = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        if (row.getLong("id") != null) {
                            page.add(message(row));
                        }
                    }
                    return page;
                });
    }

    public Uni<Changed> edit(long conversationId, long messageId, long senderId, String content) {
        return pool.preparedQuery(EDIT).execute(Tuple.of(conversationId, messageId, senderId, content))
                .map(MessageRepository::changed);
    }

    public Uni<Changed> delete(long conversationId, long messageId, long senderId) {
        return pool.preparedQuery(DELETE).execute(Tuple.of(conversationId, messageId, senderId))
                .map(MessageRepository::changed);
    }

    /** @return the message's sender and state, or null when the user is not a member or it is not a message of it */
    public Uni<Standing> standing(long conversationId, long messageId, long userId) {
        return pool.preparedQuery(STANDING).execute(Tuple.of(conversationId, messageId, userId)).map(rows -> {
            Iterator<Row> found = rows.iterator();
            if (!found.hasNext()) {
                return null;
            }
            Row row = found.next();
            return new Standing(row.getLong("sender_id"), row.getBoolean("deleted"));
        });
    }

    /**
     * Up to {@code size} messages with every one of {@code words} and none of {@code excluded} (words or phrases),
     * newest first, older than {@code beforeId} when given.
     */
    public Uni<List<Message>> search(long userId, List<String> words, List<String> excluded, Long conversationId,
            Long beforeId, int size) {
        long before = beforeId == null ? Long.MAX_VALUE : beforeId;
        Tuple parameters = Tuple.of(userId, words.toArray(String[]::new), excluded.toArray(String[]::new), before,
                conversationId, size);
        return pool.withTransaction(connection -> connection.query(CUSTOM_PLAN).execute()
                .chain(() -> connection.preparedQuery(SEARCH).execute(parameters)))
                .map(rows -> {
                    List<Message> found = new ArrayList<>(rows.size());
                    rows.forEach(row -> found.add(message(row)));
                    return found;
                });
    }

    public Uni<Boolean> isMember(long conversationId, long userId) {
        return pool.preparedQuery(IS_MEMBER).execute(Tuple.of(conversationId, userId)).map(rows -> rows.size() > 0);
    }

    private static Changed changed(RowSet<Row> rows) {
        Iterator<Row> found = rows.iterator();
        return found.hasNext() ? withMembers(found.next()) : null;
    }

    private static Changed withMembers(Row row) {
        return new Changed(message(row), longs(row.getArrayOfLongs("member_ids")));
    }

    private static long[] longs(Long[] boxed) {
        long[] unboxed = new long[boxed.length];
        for (int i = 0; i < boxed.length; i++) {
            unboxed[i] = boxed[i];
        }
        return unboxed;
    }

    private static String prefixed(String prefix, String columns) {
        return String.join(", ", Arrays.stream(columns.split(", ")).map(column -> prefix + column).toList());
    }

    /**
     * The messages stored from {@code from} on in the conversations of any of {@code userIds} (at most
     * {@code perConversation} of each), with their conversation's members now, oldest first: what the sockets of those
     * users may have missed while the live events bus was away. Two statements: the id where {@code from} begins (one
     * walk of the primary key over what was stored since), then one index range per conversation.
     */
    public Uni<List<Changed>> storedSinceFor(List<Long> userIds, Instant from, int perConversation) {
        return pool.preparedQuery(LAST_STORED_BEFORE).execute(Tuple.of(from.atOffset(ZoneOffset.UTC)))
                .map(rows -> rows.iterator().next().getLong("id"))
                .chain(afterId -> pool.preparedQuery(NEWER_FOR_MEMBERS)
                        .execute(Tuple.of(userIds.toArray(Long[]::new), afterId, perConversation)))
                .chain(rows -> {
                    List<Message> found = new ArrayList<>(rows.size());
                    rows.forEach(row -> found.add(message(row)));
                    if (found.isEmpty()) {
                        return Uni.createFrom().item(List.<Changed>of());
                    }
                    // The members once per conversation, not once per message: a busy group has hundreds.
                    Long[] conversations = found.stream().map(Message::conversationId).distinct().toArray(Long[]::new);
                    return pool.preparedQuery(MEMBERS_OF_EACH).execute(Tuple.tuple().addArrayOfLong(conversations)).map(memberRows -> {
                        Map<Long, long[]> membersOf = new HashMap<>();
                        memberRows.forEach(row -> membersOf.put(row.getLong("id"), longs(row.getArrayOfLongs("member_ids"))));
                        return found.stream().map(message -> new Changed(message, membersOf.get(message.conversationId())))
                                .toList();
                    });
                });
    }

    /**
     * The id after which a catch-up for a client that has {@code sinceId} starts: {@code sinceId} itself, less the
     * ids of the messages stored in the {@code overlap} before it. A message below {@code sinceId} can be committed, and
     * pushed, after it (another insert batch, another replica), so a client's newest id does not prove it has every
     * older one; what was stored that close before it is sent again (clients keep messages by id). {@code sinceId}
     * when it names no message or the overlap is zero.
     */
    public Uni<Long> replayFrom(long sinceId, Duration overlap) {
        if (sinceId <= 0 || overlap.isZero() || overlap.isNegative()) {
            return Uni.createFrom().item(sinceId);
        }
        return pool.preparedQuery(OVERLAP_BOUND).execute(Tuple.of(sinceId, overlap.toMillis())).map(rows -> {
            Iterator<Row> found = rows.iterator();
            if (!found.hasNext()) {
                return sinceId;
            }
            Long below = found.next().getLong("below");
            return below == null ? 0L : below;
        });
    }

    /**
     * The user's messages after {@code afterId} but {@code exceptId} (the one the client has) in the conversations
     * they are a member of now, oldest first.
     */
    public Uni<List<Message>> newerForMember(long userId, long afterId, long exceptId, int limit) {
        return pool.preparedQuery(NEWER_FOR_MEMBER).execute(Tuple.of(userId, afterId, limit, exceptId)).map(rows -> {
            List<Message> found = new ArrayList<>(rows.size());
            rows.forEach(row -> found.add(message(row)));
            return found;
        });
    }

    /**
     * Pairs the statement's result with the requested rows. A row's fate follows from its
     * conversation's kind and members, which the statement returns as it saw them. Ids follow
     * the batch's order (rows are inserted by {@code position}); inserted rows with a client id
     * are matched by it, the others in id order, and checked field by field.
     */
    private static List<Written> matchToRows(List<NewRow> rows, RowSet<Row> result) {
        Map<Long, Members> membersOf = new HashMap<>();
        List<Message> withoutClientId = new ArrayList<>();
        Map<ClientKey, Message> byClientKey = new HashMap<>();
        for (Row row : result) {
            if (row.getLong("id") == null) {
                Long[] ids = row.getArrayOfLongs("member_ids");
                long[] members = new long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    members[i] = ids[i];
                }
                membersOf.put(row.getLong("conversation_id"),
                        new Members(Conversation.GROUP.equals(row.getString("kind")), members));
                continue;
            }
            Message stored = message(row);
            if (stored.clientId() == null) {
                withoutClientId.add(stored);
            } else {
                byClientKey.put(new ClientKey(stored.senderId(), stored.clientId()), stored);
            }
        }
        withoutClientId.sort(Comparator.comparingLong(Message::id));
        Iterator<Message> inIdOrder = withoutClientId.iterator();
        Set<ClientKey> claimed = new HashSet<>();
        List<Written> written = new ArrayList<>(rows.size());
        for (NewRow row : rows) {
            Members members = membersOf.get(row.conversationId());
            Written refused = refusal(row, members);
            if (refused != null) {
                written.add(refused);
            } else if (row.clientId() == null) {
                Message stored = inIdOrder.hasNext() ? inIdOrder.next() : null;
                if (stored == null || !matches(stored, row)) {
                    throw new IllegalStateException("inserted rows do not match the batch");
                }
                written.add(new Written(Fate.STORED, stored, members.ids()));
            } else {
                ClientKey key = new ClientKey(row.senderId(), row.clientId());
                Message stored = claimed.add(key) ? byClientKey.get(key) : null;
                written.add(stored == null ? Written.DUPLICATE : new Written(Fate.STORED, stored, members.ids()));
            }
        }
        return written;
    }

    /** Why the statement did not insert the row, by the same rules as its WHERE clause; null if it may. */
    private static Written refusal(NewRow row, Members members) {
        if (members == null || !members.includes(row.senderId())) {
            return Written.NOT_MEMBER;
        }
        Long recipient = row.recipientId();
        if (recipient == null) {
            return null;
        }
        if (members.group()) {
            return Written.RECIPIENT_IN_GROUP;
        }
        return recipient == row.senderId() || !members.includes(recipient) ? Written.WRONG_RECIPIENT : null;
    }

    private static boolean matches(Message stored, NewRow row) {
        return stored.conversationId() == row.conversationId() && stored.senderId() == row.senderId()
                && Objects.equals(stored.content(), row.content()) && stored.date().equals(row.date());
    }

    private static Message firstOrNull(RowSet<Row> rows) {
        Iterator<Row> found = rows.iterator();
        return found.hasNext() ? message(found.next()) : null;
    }

    private static Message message(Row row) {
        return new Message(row.getLong("id"), row.getLong("conversation_id"), row.getLong("sender_id"),
                row.getString("content"), instant(row, "date"), row.getString("client_id"), instant(row, "inserted_at"),
                instant(row, "edited_at"), instant(row, "deleted_at"));
    }

    private record Members(boolean group, long[] ids) {

        boolean includes(long userId) {
            for (long id : ids) {
                if (id == userId) {
                    return true;
                }
            }
            return false;
        }
    }

    private record ClientKey(long senderId, String clientId) {
    }
}
