package io.companychat.chat.service;

/**
 * A request the API refuses with a status and a reason worth telling the client (a bad query
 * parameter, a reused client id), answered as {@code {"message": reason}}.
 */
public class RequestRejectedException extends RuntimeException {

    private final int status;

    private RequestRejectedException(int status, String reason) {
        super(reason, null, false, false);
        this.status = status;
    }

    public static RequestRejectedException badRequest(String reason) {
        return new RequestRejectedException(400, reason);
    }

    public static RequestRejectedException conflict(String reason) {
        return new RequestRejectedException(409, reason);
    }

    public int status() {
        return status;
    }
}
