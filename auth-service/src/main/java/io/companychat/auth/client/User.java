package io.companychat.auth.client;

/** A user as user-service describes it (API.md, Users); never carries a password or hash. */
public record User(long id, String name, String subname, String email, String job) {
}
