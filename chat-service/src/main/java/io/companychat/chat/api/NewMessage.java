package io.companychat.chat.api;

/**
 * {@code POST /api/conversations/{id}/messages} and an edit's {@code PATCH}. {@code content} that is not a
 * JSON string (a number, object, array or boolean) is a wrong type: 400, as for every other field (API.md's
 * conventions); missing or {@code null} is the service's 422 {@code can't be blank}.
 */
public record NewMessage(String content, String clientId) {
}
