package io.companychat.chat;

import java.time.Instant;

/**
 * A row of {@code messages}. History is read newest first by id on
 * {@code messages_history_idx (conversation_id, id DESC)}; {@code clientId} is the sender's
 * idempotency key, unique per sender, and never leaves the service. A deleted message is a tombstone:
 * {@code content} null, {@code deletedAt} set.
 */
public record Message(long id, long conversationId, long senderId, String content, Instant date, String clientId,
        Instant insertedAt, Instant editedAt, Instant deletedAt) {

    public static final int MAX_CONTENT_LENGTH = 4000;
    public static final int MAX_CLIENT_ID_LENGTH = 255;
}
