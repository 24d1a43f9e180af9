package io.companychat.chat.api;

import java.time.Instant;

import io.companychat.chat.Message;

/**
 * Message JSON of API.md, with Part 2's {@code edited_at} and {@code deleted_at} (null unless edited or deleted; a
 * deleted message's {@code content} is null). The client id stays private to the sender and is not echoed.
 */
public record MessageView(long id, long conversationId, long senderId, String content, Instant date,
        Instant insertedAt, Instant editedAt, Instant deletedAt) {

    public static MessageView of(Message message) {
        return new MessageView(message.id(), message.conversationId(), message.senderId(), message.content(),
                message.date(), message.insertedAt(), message.editedAt(), message.deletedAt());
    }
}
