package io.companychat.auth.client;

/** No connection to user-service could be made, so the request was never sent: safe to retry. */
public class UserServiceUnreachableException extends RuntimeException {

    public UserServiceUnreachableException(Throwable cause) {
        super("user-service unreachable: " + cause, cause, false, false);
    }
}
