package io.companychat.common.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;

/**
 * A Phoenix Channels client over a real WebSocket (the JDK's), for tests of the chat socket: it pushes
 * {@code [join_ref, ref, topic, event, payload]} frames and waits for replies and pushes.
 */
public final class PhoenixTestSocket implements AutoCloseable {

    public static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Put behind the last frame when the socket closes: nothing can come after it, so a wait ends there. */
    private static final JsonNode END = JSON.createArrayNode().add("socket closed");

    private final WebSocket socket;
    private final BlockingQueue<JsonNode> incoming;
    private final List<JsonNode> unclaimed = new ArrayList<>();
    private final CompletableFuture<Integer> closed;
    private final AtomicInteger refs = new AtomicInteger();
    private String joinRef;

    /** {@link System#nanoTime()} when the socket closed, 0 while it is open. */
    private volatile long closedAtNanos;

    private PhoenixTestSocket(WebSocket socket, BlockingQueue<JsonNode> incoming, CompletableFuture<Integer> closed) {
        this.socket = socket;
        this.incoming = incoming;
        this.closed = closed;
        closed.whenComplete((code, failure) -> closedAtNanos = System.nanoTime());
    }

    /** When ({@link System#nanoTime()}) the server closed the socket (or the connection dropped); 0 while it is open. */
    public long closedAtNanos() {
        return closedAtNanos;
    }

    /** Opens {@code <base>/socket/websocket?token=…&vsn=2.0.0}; fails with {@link Rejected} if the upgrade is refused. */
    public static PhoenixTestSocket connect(String wsBase, String token) {
        return open(URI.create(wsBase + "/socket/websocket?token=" + token + "&vsn=2.0.0"));
    }

    public static PhoenixTestSocket open(URI uri) {
        return open(uri, Map.of());
    }

    /** Opens the socket with extra upgrade headers (e.g. {@code Authorization}). */
    public static PhoenixTestSocket open(URI uri, Map<String, String> headers) {
        return open(uri, headers, List.of());
    }

    /** Opens the socket offering {@code subprotocols}, most preferred first (the JDK's client sets that header itself). */
    public static PhoenixTestSocket open(URI uri, List<String> subprotocols) {
        return open(uri, Map.of(), subprotocols);
    }

    private static PhoenixTestSocket open(URI uri, Map<String, String> headers, List<String> subprotocols) {
        BlockingQueue<JsonNode> incoming = new LinkedBlockingQueue<>();
        CompletableFuture<Integer> closed = new CompletableFuture<>();
        try {
            WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(WAIT);
            headers.forEach(builder::header);
            if (!subprotocols.isEmpty()) {
                builder.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
            }
            WebSocket socket = builder.buildAsync(uri, new Listener(incoming, closed)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            return new PhoenixTestSocket(socket, incoming, closed);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException handshake) {
                throw new Rejected(handshake.getResponse().statusCode());
            }
            throw new IllegalStateException("socket did not open: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("socket did not open in time", e);
        }
    }

    /** The HTTP status of a refused upgrade, or 101 when it was accepted. */
    public static int upgradeStatus(String wsBase, String query) {
        try (PhoenixTestSocket socket = open(URI.create(wsBase + "/socket/websocket" + query))) {
            return 101;
        } catch (Rejected rejected) {
            return rejected.status;
        }
    }

    /** Joins {@code room:chat} (with an optional payload) and returns the reply payload. */
    public JsonNode joinChat(Object payload) {
        joinRef = Integer.toString(refs.incrementAndGet());
        return awaitReply(send(joinRef, joinRef, "room:chat", "phx_join", payload));
    }

    public String push(String topic, String event, Object payload) {
        return send(joinRef, Integer.toString(refs.incrementAndGet()), topic, event, payload);
    }

    public String sendRaw(String text) {
        socket.sendText(text, true).join();
        return text;
    }

    private String send(String join, String ref, String topic, String event, Object payload) {
        ArrayNode frame = JSON.createArrayNode();
        frame.add(join).add(ref).add(topic).add(event).add(JSON.valueToTree(payload));
        try {
            socket.sendText(JSON.writeValueAsString(frame), true).join();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return ref;
    }

    /** The payload of the {@code phx_reply} to {@code ref}: {@code {"status", "response"}}. */
    public JsonNode awaitReply(String ref) {
        return await(frame -> "phx_reply".equals(frame.path(3).asText()) && ref.equals(frame.path(1).asText()), WAIT,
                "reply to ref " + ref).get(4);
    }

    /** The payload of the next push of {@code event}. */
    public JsonNode awaitPush(String event, Duration limit) {
        return await(frame -> event.equals(frame.path(3).asText()) && frame.path(1).isNull(), limit, "push " + event).get(4);
    }

    /**
     * A push of the server's own ({@code ref} null) other than presence: what "nothing arrives before the sentinel"
     * checks look at, since {@code presence_state}/{@code presence_diff} come and go with every contact's connections.
     */
    public static boolean isPushButPresence(JsonNode frame) {
        return frame.path(1).isNull() && !frame.path(3).asText().startsWith("presence_");
    }

    /** Whether a push of {@code event} arrives within {@code limit}. */
    public boolean receivesPush(String event, Duration limit) {
        try {
            awaitPush(event, limit);
            return true;
        } catch (AssertionError none) {
            return false;
        }
    }

    public JsonNode await(Predicate<JsonNode> matching, Duration limit, String what) {
        synchronized (unclaimed) {
            for (Iterator<JsonNode> it = unclaimed.iterator(); it.hasNext();) {
                JsonNode frame = it.next();
                if (matching.test(frame)) {
                    it.remove();
                    return frame;
                }
            }
        }
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                JsonNode frame = left <= 0 ? null : incoming.poll(left, TimeUnit.NANOSECONDS);
                if (frame == null) {
                    throw new AssertionError("no " + what + " within " + limit.toMillis() + " ms; unclaimed frames: " + unclaimed);
                }
                if (frame == END) {
                    incoming.add(END);
                    throw new AssertionError("no " + what + ": the socket closed (" + closed.getNow(null) + "); unclaimed frames: "
                            + unclaimed);
                }
                if (matching.test(frame)) {
                    return frame;
                }
                synchronized (unclaimed) {
                    unclaimed.add(frame);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The close code the server sent, if it closed the socket within {@code limit}. */
    public Integer awaitServerClose(Duration limit) {
        try {
            return closed.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        }
        socket.abort();
    }

    /** The server refused the upgrade with {@code status}. */
    public static final class Rejected extends RuntimeException {
        public final int status;

        Rejected(int status) {
            super("upgrade refused with HTTP " + status);
            this.status = status;
        }
    }

    private static final class Listener implements WebSocket.Listener {
        private final BlockingQueue<JsonNode> incoming;
        private final CompletableFuture<Integer> closed;
        private final StringBuilder partial = new StringBuilder();

        Listener(BlockingQueue<JsonNode> incoming, CompletableFuture<Integer> closed) {
            this.incoming = incoming;
            this.closed = closed;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    incoming.add(JSON.readTree(partial.toString()));
                } catch (JsonProcessingException e) {
                    incoming.add(JSON.createArrayNode().add("not-json").add(partial.toString()));
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            if (closed.complete(statusCode)) {
                incoming.add(END);
            }
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            if (closed.complete(-1)) {
                incoming.add(END);
            }
        }
    }
}
