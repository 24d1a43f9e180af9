package io.companychat.chat.repository;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.Conversation;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.PanacheRepositoryBase;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
public class ConversationRepository implements PanacheRepositoryBase<Conversation, Long> {

    /**
     * Inserts the pair unless it exists in either order. Races with a concurrent insert of the
     * same pair end in {@code DO NOTHING}, not in a unique violation.
     *
     * @return the new conversation, or null when the pair already had one
     */
    public Uni<Conversation> insertIfAbsent(long senderId, long recipientId) {
        return Panache.getSession().chain(session -> session.createNativeQuery("""
                INSERT INTO conversations (sender_id, recipient_id) VALUES (?1, ?2)
                ON CONFLICT ((LEAST(sender_id, recipient_id)), (GREATEST(sender_id, recipient_id))) DO NOTHING
                RETURNING *""", Conversation.class)
                .setParameter(1, senderId)
                .setParameter(2, recipientId)
                .getSingleResultOrNull());
    }

    /** The conversation of the pair, whichever of the two started it (on {@code conversations_pair_key}). */
    public Uni<Conversation> findByPair(long userId, long otherUserId) {
        return Panache.getSession().chain(session -> session.createNativeQuery("""
                SELECT * FROM conversations
                WHERE LEAST(sender_id, recipient_id) = ?1 AND GREATEST(sender_id, recipient_id) = ?2""",
                Conversation.class)
                .setParameter(1, Math.min(userId, otherUserId))
                .setParameter(2, Math.max(userId, otherUserId))
                .getSingleResultOrNull());
    }

    /** The conversation if {@code userId} takes part in it; null for anyone else and for unknown ids alike. */
    public Uni<Conversation> findForParticipant(long conversationId, long userId) {
        return find("id = ?1 and (senderId = ?2 or recipientId = ?2)", conversationId, userId).firstResult();
    }

    /**
     * The user's conversations, most recent activity first: the date of the newest message (one
     * probe of {@code messages_history_idx} each), or the conversation's creation when it has none.
     */
    public Uni<List<Conversation>> listForParticipant(long userId) {
        // HQL rather than a native query: Hibernate caches no plan for a native query with an
        // entity result (each call would add one), and this runs on every app start.
        return list("""
                from Conversation c where c.senderId = ?1 or c.recipientId = ?1
                order by coalesce((select m.date from Message m where m.conversationId = c.id
                                   order by m.id desc limit 1), c.insertedAt) desc, c.id desc""", userId);
    }
}
