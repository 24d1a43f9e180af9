package io.companychat.user.api;

/** A query parameter that cannot be used: 400 with the reason as message. */
public class InvalidQueryParameterException extends RuntimeException {

    public InvalidQueryParameterException(String reason) {
        super(reason, null, false, false);
    }
}
