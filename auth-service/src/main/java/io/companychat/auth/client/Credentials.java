package io.companychat.auth.client;

/** The body of user-service's {@code POST /internal/credentials}. */
public record Credentials(String email, String password) {

    /** Never print the password, whatever logs this record. */
    @Override
    public String toString() {
        return "Credentials[email=" + email + "]";
    }
}
