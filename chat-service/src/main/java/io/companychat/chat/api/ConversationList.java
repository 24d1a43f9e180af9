package io.companychat.chat.api;

import java.util.List;

/** {@code GET /api/conversations}: the caller's conversations, most recent activity first. */
public record ConversationList(List<ConversationView> data) {
}
