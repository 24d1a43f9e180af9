package io.companychat.chat.api;

/** Body of {@code POST /api/conversations/{id}/read}: {@code {"message_id": N}}. */
public record ReadMark(Long messageId) {
}
