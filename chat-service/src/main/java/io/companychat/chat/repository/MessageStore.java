package io.companychat.chat.repository;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.api.MessageView;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The write path of messages, on the reactive pool directly (not Hibernate): it runs for every
 * message, and one multi-row statement per batch is what lets PostgreSQL keep up. Reads of the
 * history stay in {@link MessageRepository}.
 */
@ApplicationScoped
public class MessageStore {

    static final String INSERT_BATCH = """
            INSERT INTO messages (conversation_id, sender_id, content, date, client_id)
            SELECT conversation_id, sender_id, content, date, client_id
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[]) WITH ORDINALITY
                 AS input (conversation_id, sender_id, content, date, client_id, position)
            ORDER BY position
            ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
            RETURNING id, conversation_id, sender_id, content, date, client_id, inserted_at""";

    static final String FIND_BY_CLIENT_ID = """
            SELECT id, conversation_id, sender_id, content, date, client_id, inserted_at
            FROM messages WHERE sender_id = $1 AND client_id = $2""";

    static final String FIND_BY_ID = """
            SELECT id, conversation_id, sender_id, content, date, client_id, inserted_at
            FROM messages WHERE id = $1""";

    static final String NEWER_FOR_PARTICIPANT = """
            SELECT m.id, m.conversation_id, m.sender_id, m.content, m.date, m.client_id, m.inserted_at
            FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE (c.sender_id = $1 OR c.recipient_id = $1) AND m.id > $2
            ORDER BY m.id LIMIT $3""";

    /** A message to insert; {@code clientId} is the sender's optional idempotency key. */
    public record NewRow(long conversationId, long senderId, String content, Instant date, String clientId) {
    }

    private final Pool pool;

    public MessageStore(Pool pool) {
        this.pool = pool;
    }

    /**
     * Inserts the rows in one statement, and so in one transaction: all of them are committed
     * when this succeeds, none when it fails. A row whose sender already used its client id (in
     * the database, or earlier in the same batch) is skipped: a racing insert of the same key
     * waits on {@code messages_sender_client_id_key} for the first to commit, then does nothing.
     *
     * @return for each row, in order, the stored message, or null where the client id was taken
     */
    public Uni<List<MessageView>> insertUnlessDuplicate(List<NewRow> rows) {
        int size = rows.size();
        Long[] conversations = new Long[size];
        Long[] senders = new Long[size];
        String[] contents = new String[size];
        OffsetDateTime[] dates = new OffsetDateTime[size];
        String[] clientIds = new String[size];
        for (int i = 0; i < size; i++) {
            NewRow row = rows.get(i);
            conversations[i] = row.conversationId();
            senders[i] = row.senderId();
            contents[i] = row.content();
            dates[i] = row.date().atOffset(ZoneOffset.UTC);
            clientIds[i] = row.clientId();
        }
        return pool.preparedQuery(INSERT_BATCH)
                .execute(Tuple.of(conversations, senders, contents, dates, clientIds))
                .map(inserted -> matchToRows(rows, inserted));
    }

    /** The message the sender stored with this client id, or null. */
    public Uni<MessageView> findByClientId(long senderId, String clientId) {
        return pool.preparedQuery(FIND_BY_CLIENT_ID).execute(Tuple.of(senderId, clientId)).map(MessageStore::firstOrNull);
    }

    public Uni<MessageView> findById(long id) {
        return pool.preparedQuery(FIND_BY_ID).execute(Tuple.of(id)).map(MessageStore::firstOrNull);
    }

    /** The user's messages after {@code sinceId} in any of their conversations, oldest first. */
    public Uni<List<MessageView>> newerForParticipant(long userId, long sinceId, int limit) {
        return pool.preparedQuery(NEWER_FOR_PARTICIPANT).execute(Tuple.of(userId, sinceId, limit))
                .map(rows -> {
                    List<MessageView> found = new ArrayList<>(rows.size());
                    rows.forEach(row -> found.add(toView(row)));
                    return found;
                });
    }

    /**
     * Pairs the inserted rows with the requested ones. Ids follow the batch's order (the rows are
     * inserted by {@code position}); rows with a client id are matched by it, the others in id
     * order, and checked field by field.
     */
    private static List<MessageView> matchToRows(List<NewRow> rows, RowSet<Row> inserted) {
        List<InsertedRow> byId = new ArrayList<>(inserted.size());
        Map<ClientKey, MessageView> byClientKey = new HashMap<>();
        for (Row row : inserted) {
            InsertedRow stored = new InsertedRow(toView(row), row.getString("client_id"));
            if (stored.clientId() == null) {
                byId.add(stored);
            } else {
                byClientKey.put(new ClientKey(stored.view().senderId(), stored.clientId()), stored.view());
            }
        }
        byId.sort(Comparator.comparingLong(stored -> stored.view().id()));
        Iterator<InsertedRow> withoutClientId = byId.iterator();
        Set<ClientKey> claimed = new HashSet<>();
        List<MessageView> result = new ArrayList<>(rows.size());
        for (NewRow row : rows) {
            if (row.clientId() == null) {
                MessageView stored = withoutClientId.hasNext() ? withoutClientId.next().view() : null;
                if (stored == null || !matches(stored, row)) {
                    throw new IllegalStateException("inserted rows do not match the batch");
                }
                result.add(stored);
            } else {
                ClientKey key = new ClientKey(row.senderId(), row.clientId());
                result.add(claimed.add(key) ? byClientKey.get(key) : null);
            }
        }
        return result;
    }

    private static boolean matches(MessageView stored, NewRow row) {
        return stored.conversationId() == row.conversationId() && stored.senderId() == row.senderId()
                && Objects.equals(stored.content(), row.content()) && stored.date().equals(row.date());
    }

    private static MessageView firstOrNull(RowSet<Row> rows) {
        Iterator<Row> found = rows.iterator();
        return found.hasNext() ? toView(found.next()) : null;
    }

    private static MessageView toView(Row row) {
        return new MessageView(row.getLong("id"), row.getLong("conversation_id"), row.getLong("sender_id"),
                row.getString("content"), row.getOffsetDateTime("date").toInstant(),
                row.getOffsetDateTime("inserted_at").toInstant());
    }

    private record InsertedRow(MessageView view, String clientId) {
    }

    private record ClientKey(long senderId, String clientId) {
    }
}
