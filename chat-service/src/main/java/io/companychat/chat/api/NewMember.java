package io.companychat.chat.api;

/** {@code POST /api/conversations/{id}/members}. */
public record NewMember(Long userId) {
}
