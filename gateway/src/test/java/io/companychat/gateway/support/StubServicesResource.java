package io.companychat.gateway.support;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;

/**
 * Three stand-ins for the services: real Vert.x HTTP servers on free ports. Each answers every request with a JSON
 * description of what it received, naming itself; chat-service also accepts a WebSocket at /socket/websocket.
 * A test takes a stand-in away (its port refuses connections) and brings it back through the {@link StubServices}
 * field it is given; a request with {@link #SILENT_HEADER} is read and never answered (a hung service).
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
    /** chat-service takes WebSocket upgrades here and never answers them. */
    public static final String SILENT_SOCKET_PATH = "/socket/silent";
    /** Short, so tests can outwait it; still ample for a stub on a busy machine. */
    public static final int REQUEST_TIMEOUT_SECONDS = 3;

    /** Request headers the stubs echo, all lower case. */
    private static final String[] ECHOED_HEADERS = { "x-forwarded-for", "forwarded", "x-forwarded-proto",
            "x-forwarded-host", "x-real-ip", "x-custom", "content-type" };

    private Vertx vertx;
    private StubServices stubs;

    @Override
    public Map<String, String> start() {
        vertx = Vertx.vertx();
        stubs = new StubServices();
        return Map.of(
                "gateway.user-service-url", "http://localhost:" + stubs.start("user-service", 0),
                "gateway.auth-service-url", "http://localhost:" + stubs.start("auth-service", 0),
                "gateway.chat-service-url", "http://localhost:" + stubs.start("chat-service", 0),
                "gateway.request-timeout", REQUEST_TIMEOUT_SECONDS + "s");
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

        private int start(String name, int port) {
            HttpServer server = vertx.createHttpServer()
                    .requestHandler(request -> describe(name, request))
                    .webSocketHandler(ws -> echo(name, ws));
            int actual = await(server.listen(port, "localhost").toCompletionStage().toCompletableFuture()).actualPort();
            servers.put(name, server);
            ports.put(name, actual);
            return actual;
        }

        /** The service's port refuses connections from now on. */
        public void down(String name) {
            await(servers.remove(name).close().toCompletionStage().toCompletableFuture());
        }

        /** The service answers again, on the same port. */
        public void up(String name) {
            if (!servers.containsKey(name)) {
                start(name, ports.get(name));
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

    private static void echo(String name, ServerWebSocket ws) {
        if (name.equals("chat-service") && ws.path().equals(SILENT_SOCKET_PATH)) {
            ws.setHandshake(Promise.<Integer> promise().future());
            return;
        }
        if (!name.equals("chat-service") || !ws.path().equals("/socket/websocket")) {
            ws.reject(404);
            return;
        }
        ws.textMessageHandler(text -> {
            if (text.equals(WHOAMI_FRAME)) {
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
