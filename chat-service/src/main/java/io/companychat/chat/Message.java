package io.companychat.chat;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A message of a conversation. History is read newest first by id on
 * {@code messages_history_idx (conversation_id, id DESC)}; {@code clientId} is the sender's
 * idempotency key, unique per sender.
 */
@Entity
@Table(name = "messages")
public class Message {

    public static final int MAX_CONTENT_LENGTH = 4000;
    public static final int MAX_CLIENT_ID_LENGTH = 255;

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    @Column(name = "conversation_id", nullable = false, updatable = false)
    public long conversationId;

    @Column(name = "sender_id", nullable = false, updatable = false)
    public long senderId;

    @Column(name = "content", nullable = false, length = MAX_CONTENT_LENGTH)
    public String content;

    /** When the server received it. */
    @Column(name = "date", nullable = false)
    public Instant date;

    @Column(name = "client_id", length = MAX_CLIENT_ID_LENGTH, updatable = false)
    public String clientId;

    @Column(name = "inserted_at", nullable = false, updatable = false)
    public Instant insertedAt;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
