package io.companychat.common.error;

/** A dependency (another service, the database) is down: 503 with {@code Retry-After}. */
public class ServiceUnavailableException extends RuntimeException {

    private final int retryAfterSeconds;

    public ServiceUnavailableException(String message, int retryAfterSeconds, Throwable cause) {
        super(message, cause, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
