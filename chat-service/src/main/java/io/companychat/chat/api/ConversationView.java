package io.companychat.chat.api;

import java.time.Instant;

import io.companychat.chat.Conversation;

/** Conversation JSON of API.md. */
public record ConversationView(long id, long senderId, long recipientId, String status, Instant insertedAt,
        Instant updatedAt) {

    public static ConversationView of(Conversation conversation) {
        return new ConversationView(conversation.id, conversation.senderId, conversation.recipientId,
                conversation.status, conversation.insertedAt, conversation.updatedAt);
    }
}
