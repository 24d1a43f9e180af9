package io.companychat.auth;

/** Too many failed logins for this email or from this client address within the window: 429 with Retry-After. */
public class TooManyFailedLoginsException extends RuntimeException {

    public static final String MESSAGE = "too many failed logins, try again later";

    private final long retryAfterSeconds;

    public TooManyFailedLoginsException(long retryAfterSeconds) {
        super(MESSAGE, null, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
