package io.companychat.chat.client;

/** The user JSON of user-service's {@code GET /internal/users/{id}}. */
public record UserSummary(long id, String name, String subname, String email, String job) {
}
