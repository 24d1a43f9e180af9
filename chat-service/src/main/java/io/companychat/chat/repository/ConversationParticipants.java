package io.companychat.chat.repository;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Who takes part in a conversation, read once and then kept: the two participants of a
 * conversation never change and conversations are never deleted, so a cached pair can't go
 * stale. Every message checks its sender against it, so this saves a query per message. Unknown
 * ids are not cached (a conversation may be created meanwhile, on any replica).
 */
@ApplicationScoped
public class ConversationParticipants {

    /** Enough for every active conversation of a large company; past it the cache starts over. */
    static final int MAX_CACHED = 200_000;

    /** The two users of a conversation. */
    public record Participants(long senderId, long recipientId) {

        public boolean includes(long userId) {
            return senderId == userId || recipientId == userId;
        }

        /** The participant who is not {@code userId}. */
        public long other(long userId) {
            return senderId == userId ? recipientId : senderId;
        }
    }

    private final Pool pool;
    private final Map<Long, Participants> cached = new ConcurrentHashMap<>();

    public ConversationParticipants(Pool pool) {
        this.pool = pool;
    }

    /** The conversation's participants, or null when there is no such conversation. */
    public Uni<Participants> of(long conversationId) {
        Participants known = cached.get(conversationId);
        if (known != null) {
            return Uni.createFrom().item(known);
        }
        return pool.preparedQuery("SELECT sender_id, recipient_id FROM conversations WHERE id = $1")
                .execute(Tuple.of(conversationId))
                .map(rows -> {
                    Iterator<Row> found = rows.iterator();
                    if (!found.hasNext()) {
                        return null;
                    }
                    Row row = found.next();
                    Participants participants = new Participants(row.getLong("sender_id"), row.getLong("recipient_id"));
                    if (cached.size() >= MAX_CACHED) {
                        cached.clear();
                    }
                    cached.put(conversationId, participants);
                    return participants;
                });
    }
}
