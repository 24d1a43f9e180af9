package io.companychat.chat;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * One conversation per pair of users, whichever of them started it (the database enforces it
 * with {@code conversations_pair_key}). Participants are user ids of user-service; this service
 * never reads the users table.
 */
@Entity
@Table(name = "conversations")
public class Conversation {

    public static final String ACTIVE = "active";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "sender_id", nullable = false, updatable = false)
    public long senderId;

    @Column(name = "recipient_id", nullable = false, updatable = false)
    public long recipientId;

    @Column(name = "status", nullable = false, length = 32)
    public String status;

    @Column(name = "inserted_at", nullable = false, updatable = false)
    public Instant insertedAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;

    public boolean hasParticipant(long userId) {
        return senderId == userId || recipientId == userId;
    }

    /** The participant who is not {@code userId}. */
    public long otherParticipant(long userId) {
        return senderId == userId ? recipientId : senderId;
    }
}
