package io.companychat.chat.api;

import java.time.Instant;
import java.util.List;

import io.companychat.chat.Conversation;
import io.companychat.chat.Message;

/**
 * Conversation JSON of API.md, extended (Part 2): {@code kind}, {@code title}, {@code member_ids}
 * (ascending) and {@code last_message} (the newest message, or null) beside the Part 1 fields.
 */
public record ConversationView(long id, String kind, String title, long senderId, Long recipientId, List<Long> memberIds,
        String status, Instant insertedAt, Instant updatedAt, MessageView lastMessage) {

    public static ConversationView of(Conversation conversation, Message lastMessage) {
        return new ConversationView(conversation.id(), conversation.kind(), conversation.title(), conversation.senderId(),
                conversation.recipientId(), conversation.memberIds(), conversation.status(), conversation.insertedAt(),
                conversation.updatedAt(), lastMessage == null ? null : MessageView.of(lastMessage));
    }
}
