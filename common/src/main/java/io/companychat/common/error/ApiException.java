package io.companychat.common.error;

import java.util.Map;

import jakarta.ws.rs.core.HttpHeaders;

/**
 * The one exception family of every service: a refusal that API.md describes, with its status, the
 * {@code {"message"}} reason and the headers it needs ({@code Retry-After}). Services throw it; common's
 * {@link ErrorMappers} is the one place that turns it into an answer. {@link FieldValidationException} is the
 * 422 member of the family.
 */
public class ApiException extends RuntimeException {

    /** API.md's one answer to a wrong email and to a wrong password alike (user-service says it, auth-service reads it). */
    public static final String INVALID_CREDENTIALS = "invalid email or password";

    private final int status;
    private final Map<String, String> headers;

    protected ApiException(int status, String message, Map<String, String> headers, Throwable cause) {
        super(message, cause, false, false);
        this.status = status;
        this.headers = Map.copyOf(headers);
    }

    public static ApiException badRequest(String reason) {
        return new ApiException(400, reason, Map.of(), null);
    }

    /** Bad credentials (not a bad token: that is Quarkus security's 401 with a Bearer challenge). */
    public static ApiException unauthorized(String reason) {
        return new ApiException(401, reason, Map.of(), null);
    }

    public static ApiException invalidCredentials() {
        return unauthorized(INVALID_CREDENTIALS);
    }

    public static ApiException forbidden() {
        return new ApiException(403, "forbidden", Map.of(), null);
    }

    /** Unknown, or not the caller's to see: API.md answers both alike so that ids leak nothing. */
    public static ApiException notFound() {
        return new ApiException(404, "not found", Map.of(), null);
    }

    public static ApiException conflict(String reason) {
        return new ApiException(409, reason, Map.of(), null);
    }

    public static ApiException tooManyRequests(String reason, long retryAfterSeconds) {
        return new ApiException(429, reason, retryAfter(retryAfterSeconds), null);
    }

    /** A dependency (another service, the database) cannot answer now. */
    public static ApiException unavailable(String reason, long retryAfterSeconds, Throwable cause) {
        return new ApiException(503, reason, retryAfter(retryAfterSeconds), cause);
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** The seconds of {@code Retry-After}, or -1 when the refusal has none. */
    public long retryAfterSeconds() {
        String value = headers.get(HttpHeaders.RETRY_AFTER);
        return value == null ? -1 : Long.parseLong(value);
    }

    private static Map<String, String> retryAfter(long seconds) {
        return Map.of(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, seconds)));
    }
}
