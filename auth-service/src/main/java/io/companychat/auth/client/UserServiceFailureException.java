package io.companychat.auth.client;

/** user-service answered, but not with a user or a credential refusal (5xx, or a 4xx that means misconfiguration). */
public class UserServiceFailureException extends RuntimeException {

    public UserServiceFailureException(int status) {
        super("user-service answered HTTP " + status, null, false, false);
    }
}
