package io.companychat.gateway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

/**
 * A client for what rest-assured would tidy up: request targets sent byte for byte over a plain socket (dot segments,
 * encodings, backslashes), and WebSockets through the Vert.x client.
 */
public final class RawClient implements AutoCloseable {

    private static final int TIMEOUT_SECONDS = 10;

    private final Vertx vertx = Vertx.vertx();
    private final HttpClient client = vertx.createHttpClient();
    private final int port;

    public RawClient(int port) {
        this.port = port;
    }

    public record Response(int status, MultiMap headers, String body) {
        public JsonObject json() {
            return new JsonObject(body);
        }
    }

    /** A WebSocket whose received text frames queue up for {@link #nextText()}. */
    public record OpenWebSocket(WebSocket socket, BlockingQueue<String> received) {
        public String nextText() throws InterruptedException {
            return received.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** GET with the request target written exactly as given; the connection is closed after the answer. */
    public Response get(String rawTarget) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            String request = "GET " + rawTarget + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return parse(socket.getInputStream().readAllBytes());
        }
    }

    private static Response parse(byte[] raw) {
        String text = new String(raw, StandardCharsets.UTF_8);
        int headEnd = text.indexOf("\r\n\r\n");
        if (headEnd < 0) {
            throw new AssertionError("not an HTTP response: " + text);
        }
        String[] lines = text.substring(0, headEnd).split("\r\n");
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.add(lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim());
        }
        String body = text.substring(headEnd + 4);
        if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
            body = dechunk(body);
        }
        return new Response(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
    }

    private static String dechunk(String chunked) {
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (true) {
            int lineEnd = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, lineEnd).trim(), 16);
            if (size == 0) {
                return body.toString();
            }
            body.append(chunked, lineEnd + 2, lineEnd + 2 + size);
            at = lineEnd + 2 + size + 2;
        }
    }

    public OpenWebSocket openWebSocket(String uri, String... headerPairs) throws Exception {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("localhost").setPort(port).setURI(uri);
        for (int i = 0; i < headerPairs.length; i += 2) {
            options.addHeader(headerPairs[i], headerPairs[i + 1]);
        }
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        // frames only come in answer to frames the test sends after this returns, so none can miss the handler
        WebSocket socket = client.webSocket(options).onSuccess(ws -> ws.textMessageHandler(received::add))
                .toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return new OpenWebSocket(socket, received);
    }

    /** The failure of a WebSocket handshake, or an AssertionError if it succeeded. */
    public Throwable failedWebSocket(String uri) throws InterruptedException {
        CompletableFuture<WebSocket> future = client.webSocket(new WebSocketConnectOptions().setHost("localhost")
                .setPort(port).setURI(uri)).toCompletionStage().toCompletableFuture();
        try {
            WebSocket socket = future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            socket.close();
            throw new AssertionError("expected the WebSocket upgrade of " + uri + " to be refused, but it succeeded");
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("no answer to the WebSocket upgrade of " + uri + " within " + TIMEOUT_SECONDS + " s");
        }
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
}
