package io.companychat.gateway.error;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** The gateway's own answers, in the {@code {"message": ...}} shape of API.md. */
public final class ErrorResponses {

    public static final int UNAVAILABLE_STATUS = 502;
    public static final String RETRY_AFTER_SECONDS = "5";

    private ErrorResponses() {
    }

    public static Buffer body(String message) {
        return new JsonObject().put("message", message).toBuffer();
    }

    public static String unavailableMessage(String service) {
        return service + " is unavailable";
    }

    /** The headers every 502 carries, so that clients back off instead of hammering a service that is down. */
    public static void addUnavailableHeaders(MultiMap headers) {
        headers.set(HttpHeaders.CONTENT_TYPE, "application/json");
        headers.set(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
    }

    public static void send(HttpServerResponse response, int status, String message) {
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(body(message));
    }

    public static void sendUnavailable(HttpServerResponse response, String service) {
        response.setStatusCode(UNAVAILABLE_STATUS);
        addUnavailableHeaders(response.headers());
        response.end(body(unavailableMessage(service)));
    }
}
