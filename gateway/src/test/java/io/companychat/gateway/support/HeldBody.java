package io.companychat.gateway.support;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * A service's answer written in two parts, to see what the gateway does with a body that is still arriving. A request
 * with {@link #HEADER} {@code <length>} gets a 200 with that Content-Length, its head and the first
 * {@link #FIRST_PART} bytes of the body at once and the rest when the test calls {@link #release()}; with
 * {@code <length>;cut} the service closes the connection after the first part instead.
 */
public final class HeldBody {

    public static final String HEADER = "X-Stub-Held-Body";
    public static final int FIRST_PART = 100;
    public static final byte FILL = 'b';

    private static volatile CompletableFuture<Void> released = new CompletableFuture<>();

    private HeldBody() {
    }

    /** The next answer holds its rest until {@link #release()}. */
    public static void reset() {
        released = new CompletableFuture<>();
    }

    /** Lets the answer under way write the rest of its body. */
    public static void release() {
        released.complete(null);
    }

    public static byte[] body(int length) {
        byte[] body = new byte[length];
        Arrays.fill(body, FILL);
        return body;
    }

    static void answer(HttpServerRequest request) {
        String[] spec = request.getHeader(HEADER).split(";");
        int length = Integer.parseInt(spec[0]);
        boolean cut = spec.length > 1 && spec[1].equals("cut");
        Context context = Vertx.currentContext();
        CompletableFuture<Void> rest = released;
        request.body().onSuccess(ignored -> {
            HttpServerResponse response = request.response()
                    .putHeader("Content-Type", "text/plain")
                    .putHeader("Content-Length", String.valueOf(length));
            response.write(Buffer.buffer(body(FIRST_PART)));
            if (cut) {
                request.connection().close();
            } else {
                rest.thenRun(() -> context.runOnContext(v -> response.end(Buffer.buffer(body(length - FIRST_PART)))));
            }
        });
    }
}
