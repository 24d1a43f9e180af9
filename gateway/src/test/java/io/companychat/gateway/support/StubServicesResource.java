package io.companychat.gateway.support;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.impl.HttpUtils;
import io.vertx.core.json.JsonObject;

/**
 * Three stand-ins for the services: real Vert.x HTTP servers on free ports. Each answers every request with a JSON
 * description of what it received, naming itself; chat-service also accepts a WebSocket at /socket/websocket (an
 * echo), two written byte by byte at {@link RawSocket#PATH} and {@link RawSocket#FAREWELL_PATH}, and one it never
 * answers at {@link #SILENT_SOCKET_PATH}. A test takes a stand-in away (its port refuses connections, or takes none:
 * {@link StubServices#unreachable}) and brings it back through the {@link StubServices} field it is given; a request
 * with {@link #SILENT_HEADER} is read and never answered (a hung service), one with {@link HeldBody#HEADER} gets a
 * body written in two parts (see {@link HeldBody}).
 */
public class StubServicesResource implements QuarkusTestResourceLifecycleManager {

    /** Request header: the status the stub should answer with. */
    public static final String STATUS_HEADER = "X-Stub-Status";
    /** Request header echoed back in the body and as the response header {@link #REPLY_HEADER}. */
    public static final String CUSTOM_HEADER = "X-Custom";
    public static final String REPLY_HEADER = "X-Stub-Reply";
    public static final String SERVICE_HEADER = "X-Stub-Service";
    /** Request header: the stub reads the request and never answers it. */
    public static final String SILENT_HEADER = "X-Stub-Silent";
    /** A WebSocket text frame that makes the stub describe the upgrade request it received. */
    public static final String WHOAMI_FRAME = "whoami";
    public static final String ECHO_PREFIX = "echo: ";
    /** A WebSocket text frame that makes the chat-service stub write binary frames as fast as it can (see flood). */
    public static final String FLOOD_FRAME = "flood";
    public static final int FLOOD_CHUNK = 32 * 1024;
    public static final long FLOOD_CAP = 256L * 1024 * 1024;
    public static final long FLOOD_QUIET_MILLIS = 3000;
    /** chat-service refuses WebSocket upgrades here as a full replica does: 503 with Retry-After 1. */
    public static final String FULL_SOCKET_PATH = "/socket/full";
    /** chat-service takes WebSocket upgrades here and never answers them. */
    public static final String SILENT_SOCKET_PATH = "/socket/silent";
    /** The key of the second chat-service stand-in: it answers as {@code chat-service}, on a port of its own. */
    static final String SECOND_CHAT_REPLICA = "chat-service#2";
    /** Short, so tests can outwait it; still ample for a stub on a busy machine. */
    public static final int REQUEST_TIMEOUT_SECONDS = 3;

    /** Request headers the stubs echo, all lower case. */
    private static final String[] ECHOED_HEADERS = { "x-forwarded-for", "forwarded", "x-forwarded-proto",
            "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-ssl", "x-forwarded-server",
            "x-real-ip", "x-service-token", "x-custom", "content-type" };
    /** The gateway's idle timeout in these tests: above the request timeout and any idle wait of the other tests. */
    public static final int IDLE_TIMEOUT_SECONDS = 6;
    /** The gateway's request head timeout in these tests (10 s deployed). */
    public static final int HEAD_TIMEOUT_SECONDS = 2;

    private Vertx vertx;
    private StubServices stubs;

    @Override
    public Map<String, String> start() {
        vertx = Vertx.vertx();
        stubs = new StubServices();
        return Map.of(
                "gateway.user-service-url", "http://localhost:" + stubs.start("user-service", 0),
                "gateway.auth-service-url", "http://localhost:" + stubs.start("auth-service", 0),
                // two chat-service replicas, reached in turn (a stub names the port it listens on)
                "gateway.chat-service-url", "http://localhost:" + stubs.start("chat-service", 0) + ",http://localhost:"
                        + stubs.start(SECOND_CHAT_REPLICA, 0),
                "gateway.request-timeout", REQUEST_TIMEOUT_SECONDS + "s",
                "GATEWAY_IDLE_TIMEOUT", IDLE_TIMEOUT_SECONDS + "s",
                "GATEWAY_HEAD_TIMEOUT", HEAD_TIMEOUT_SECONDS + "s");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(stubs, new TestInjector.MatchesType(StubServices.class));
    }

    @Override
    public void stop() {
        if (vertx != null) {
            await(vertx.close().toCompletionStage().toCompletableFuture());
        }
    }

    /** The running stand-ins, by service name. */
    public final class StubServices {

        private final Map<String, HttpServer> servers = new ConcurrentHashMap<>();
        private final Map<String, Integer> ports = new ConcurrentHashMap<>();

        private int start(String key, int port) {
            String name = key.replaceFirst("#.*", "");
            HttpServer server = vertx.createHttpServer()
                    .requestHandler(request -> {
                        if (HttpUtils.canUpgradeToWebSocket(request)) {
                            upgrade(name, request);
                        } else if (request.getHeader(HeldBody.HEADER) != null) {
                            HeldBody.answer(request);
                        } else {
                            describe(name, request);
                        }
                    });
            int actual = await(server.listen(port, "localhost").toCompletionStage().toCompletableFuture()).actualPort();
            servers.put(key, server);
            ports.put(key, actual);
            return actual;
        }

        /** The service's ports (every replica's) refuse connections from now on. */
        public void down(String name) {
            for (String key : List.copyOf(servers.keySet())) {
                if (key.equals(name) || key.startsWith(name + "#")) {
                    await(servers.remove(key).close().toCompletionStage().toCompletableFuture());
                }
            }
        }

        /**
         * The service's ports (every replica's; the service must be down) take no connection from now on until the
         * returned handle is closed: something listens on them with a full accept queue, so the kernel drops a new
         * connection's SYN and a connect hangs until the client gives up (as with a replica whose host is gone).
         */
        public AutoCloseable unreachable(String name) throws IOException {
            List<Closeable> held = new ArrayList<>();
            for (String key : ports.keySet()) {
                if ((key.equals(name) || key.startsWith(name + "#")) && !servers.containsKey(key)) {
                    ServerSocket listener = new ServerSocket();
                    held.add(listener);
                    listener.bind(new InetSocketAddress("localhost", ports.get(key)), 1);
                    for (int i = 0; i < 16; i++) {
                        Socket filler = new Socket();
                        held.add(filler);
                        try {
                            filler.connect(listener.getLocalSocketAddress(), 200);
                        } catch (SocketTimeoutException queueFull) {
                            break;
                        }
                    }
                }
            }
            return () -> {
                for (Closeable closeable : held) {
                    closeable.close();
                }
            };
        }

        /** The service answers again, on the same ports. */
        public void up(String name) {
            for (String key : List.copyOf(ports.keySet())) {
                if ((key.equals(name) || key.startsWith(name + "#")) && !servers.containsKey(key)) {
                    start(key, ports.get(key));
                }
            }
        }
    }

    private static void describe(String name, HttpServerRequest request) {
        request.body().onSuccess(body -> {
            if (request.getHeader(SILENT_HEADER) != null) {
                return;
            }
            String status = request.getHeader(STATUS_HEADER);
            JsonObject description = new JsonObject()
                    .put("service", name)
                    .put("port", request.localAddress().port())
                    .put("method", request.method().name())
                    .put("path", request.path())
                    .put("query", request.query())
                    .put("body", body.toString())
                    .put("headers", echoedHeaders(request.headers()));
            request.response()
                    .setStatusCode(status == null ? 200 : Integer.parseInt(status))
                    .putHeader("Content-Type", "application/json")
                    .putHeader(SERVICE_HEADER, name)
                    .putHeader(REPLY_HEADER, String.valueOf(request.getHeader(CUSTOM_HEADER)))
                    .end(description.encode());
        });
    }

    private static void upgrade(String name, HttpServerRequest request) {
        boolean chat = name.equals("chat-service");
        if (chat && request.path().equals(SILENT_SOCKET_PATH)) {
            request.pause(); // never answered
        } else if (chat && request.path().equals(FULL_SOCKET_PATH)) {
            request.response().setStatusCode(503).putHeader("Retry-After", "1").end();
        } else if (chat && request.path().equals(RawSocket.PATH)) {
            RawSocket.accept(request);
        } else if (chat && request.path().equals(RawSocket.FAREWELL_PATH)) {
            RawSocket.farewell(request);
        } else if (chat && request.path().equals("/socket/websocket")) {
            request.toWebSocket().onSuccess(ws -> echo(name, ws));
        } else {
            request.response().setStatusCode(404).end();
        }
    }

    private static void echo(String name, ServerWebSocket ws) {
        ws.textMessageHandler(text -> {
            if (text.equals(FLOOD_FRAME)) {
                flood(ws, new long[1]);
            } else if (text.equals(WHOAMI_FRAME)) {
                ws.writeTextMessage(new JsonObject()
                        .put("service", name)
                        .put("path", ws.path())
                        .put("query", ws.query())
                        .put("headers", echoedHeaders(ws.headers()))
                        .encode());
            } else {
                ws.writeTextMessage(ECHO_PREFIX + text);
            }
        });
    }

    /**
     * Writes {@link #FLOOD_CHUNK}-byte binary frames as fast as the connection takes them, up to {@link #FLOOD_CAP}
     * bytes; once {@link #FLOOD_QUIET_MILLIS} pass with its write queue full, it stops and reports how much it wrote.
     */
    private static void flood(ServerWebSocket ws, long[] written) {
        io.vertx.core.buffer.Buffer chunk = io.vertx.core.buffer.Buffer.buffer(new byte[FLOOD_CHUNK]);
        while (!ws.writeQueueFull() && written[0] < FLOOD_CAP) {
            ws.writeBinaryMessage(chunk);
            written[0] += FLOOD_CHUNK;
        }
        if (written[0] >= FLOOD_CAP) {
            flooded.complete(written[0]);
            return;
        }
        Vertx vertx = io.vertx.core.Vertx.currentContext().owner();
        long timer = vertx.setTimer(FLOOD_QUIET_MILLIS, id -> flooded.complete(written[0]));
        ws.drainHandler(v -> {
            vertx.cancelTimer(timer);
            ws.drainHandler(null);
            flood(ws, written);
        });
    }

    /** What the last flood wrote before the gateway stopped taking it (or {@link #FLOOD_CAP}). */
    public static java.util.concurrent.CompletableFuture<Long> flooded() {
        return flooded;
    }

    public static void resetFlood() {
        flooded = new java.util.concurrent.CompletableFuture<>();
    }

    private static volatile java.util.concurrent.CompletableFuture<Long> flooded = new java.util.concurrent.CompletableFuture<>();

    private static JsonObject echoedHeaders(io.vertx.core.MultiMap headers) {
        JsonObject echoed = new JsonObject();
        for (String header : ECHOED_HEADERS) {
            echoed.put(header, headers.get(header));
        }
        return echoed;
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> future) {
        try {
            return future.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("stub services did not start or stop", e);
        }
    }
}
