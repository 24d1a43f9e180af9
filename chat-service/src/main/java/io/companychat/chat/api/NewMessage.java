package io.companychat.chat.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * {@code POST /api/conversations/{id}/messages}. {@code content} is taken as any JSON value so
 * that a number, object or boolean is a 422 on the field (API.md) rather than the 400 that
 * strict typing gives a mistyped string; the service checks it.
 */
public record NewMessage(JsonNode content, String clientId) {
}
