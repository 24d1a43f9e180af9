package io.companychat.auth.client;

/** user-service answered, but not with a user or a credential refusal (5xx, or a 4xx that means misconfiguration). */
public class UserServiceFailureException extends RuntimeException {

    public UserServiceFailureException(int status) {
        super(status == 401
                ? "user-service refused auth-service's service credential (do both have the same INTERNAL_SERVICE_TOKEN?)"
                : "user-service answered HTTP " + status, null, false, false);
    }
}
