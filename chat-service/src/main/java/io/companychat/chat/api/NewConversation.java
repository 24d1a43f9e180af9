package io.companychat.chat.api;

/**
 * {@code POST /api/conversations}. A JSON string or fraction for the id is a 400 (strict JSON);
 * a missing one is a 422, checked by the service.
 */
public record NewConversation(Long recipientId) {
}
