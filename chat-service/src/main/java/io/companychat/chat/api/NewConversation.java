package io.companychat.chat.api;

import java.util.List;

/**
 * {@code POST /api/conversations}: {@code recipient_id} alone starts (or finds) a direct
 * conversation; {@code title} and {@code member_ids} create a group. A JSON string or fraction
 * for an id is a 400 (strict JSON); what is missing or wrong beyond types is a 422, checked by
 * the service.
 */
public record NewConversation(Long recipientId, String title, List<Long> memberIds) {
}
