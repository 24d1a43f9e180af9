package io.companychat.chat.api;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.companychat.chat.Conversation;
import io.companychat.chat.Message;
import io.companychat.chat.repository.ConversationRepository.ReadState;

/**
 * Conversation JSON of API.md, extended (Part 2): {@code kind}, {@code title}, {@code member_ids}
 * (ascending) and {@code last_message} (the newest message, or null) beside the Part 1 fields, and
 * the caller's own {@code last_read_id} (null for none) and {@code unread_count}. Both are absent
 * where the JSON is not one member's (the live {@code conversation} push, see {@link #shared()}).
 */
public record ConversationView(long id, String kind, String title, long senderId, Long recipientId, List<Long> memberIds,
        String status, Instant insertedAt, Instant updatedAt, MessageView lastMessage,
        @JsonInclude(JsonInclude.Include.NON_NULL) Optional<Long> lastReadId,
        @JsonInclude(JsonInclude.Include.NON_NULL) Long unreadCount) {

    public static ConversationView of(Conversation conversation, Message lastMessage, ReadState readState) {
        return new ConversationView(conversation.id(), conversation.kind(), conversation.title(), conversation.senderId(),
                conversation.recipientId(), conversation.memberIds(), conversation.status(), conversation.insertedAt(),
                conversation.updatedAt(), lastMessage == null ? null : MessageView.of(lastMessage),
                readState == null ? null : Optional.ofNullable(readState.lastReadId()),
                readState == null ? null : readState.unreadCount());
    }

    /** A new conversation, for its creator: nothing read, nothing to read. */
    public static ConversationView created(Conversation conversation) {
        return of(conversation, null, new ReadState(null, 0));
    }

    /** The same conversation without any member's read state: what every member may be shown. */
    public ConversationView shared() {
        return new ConversationView(id, kind, title, senderId, recipientId, memberIds, status, insertedAt, updatedAt,
                lastMessage, null, null);
    }
}
