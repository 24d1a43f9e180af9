package io.companychat.chat.api;

/** {@code PATCH /api/conversations/{id}}: renames a group. */
public record ConversationChange(String title) {
}
