package io.companychat.auth.support;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * user-service as auth-service sees it, over real HTTP: {@code POST /internal/credentials} with the service
 * credential answers 200 with the user for a registered email (any case) and its password, else 401 with the
 * body user-service sends. Tests can stop it (connections refused), make it hang or fail, and count the calls.
 */
public final class UserServiceStub implements AutoCloseable {

    public static final String SERVICE_TOKEN = "test-only-service-token";
    private static final String INVALID = new JsonObject().put("message", "invalid email or password").encode();
    private static final String NO_CREDENTIAL = new JsonObject().put("message", "service credential required").encode();

    private enum Mode { ANSWER, HANG, FAIL }

    private final Vertx vertx = Vertx.vertx();
    private final Map<String, StubUser> users = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final Map<String, Long> delaysMillis = new ConcurrentHashMap<>();
    private final AtomicInteger totalCalls = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong(1000);
    private final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();
    private volatile Mode mode = Mode.ANSWER;
    private volatile String acceptedToken = SERVICE_TOKEN;
    private volatile HttpServer server;
    private int port;

    /** A user as user-service stores it, with the password it emailed. */
    public record StubUser(long id, String name, String subname, String email, String job, String password) {

        JsonObject json() {
            return new JsonObject().put("id", id).put("name", name).put("subname", subname).put("email", email).put("job", job);
        }
    }

    public static UserServiceStub start() {
        UserServiceStub stub = new UserServiceStub();
        stub.listen(0);
        return stub;
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public StubUser register(String email, String password) {
        StubUser user = new StubUser(ids.incrementAndGet(), "Ada", "Lovelace", email, "engineer", password);
        users.put(email.toLowerCase(Locale.ROOT), user);
        return user;
    }

    /** How many credential checks reached user-service for this email (any case). */
    public int callsFor(String email) {
        AtomicInteger count = calls.get(email.toLowerCase(Locale.ROOT));
        return count == null ? 0 : count.get();
    }

    public int totalCalls() {
        return totalCalls.get();
    }

    /** Answers for this email (any case) come this much later, as if user-service were busy hashing. */
    public void delay(String email, Duration delay) {
        delaysMillis.put(email.toLowerCase(Locale.ROOT), delay.toMillis());
    }

    /** user-service stopped: nothing listens on its port, connections are refused. */
    public synchronized void stop() {
        if (server != null) {
            await(server.close());
            server = null;
        }
    }

    /** Requests are read but never answered. */
    public void hang() {
        mode = Mode.HANG;
    }

    /** Every request gets a 500. */
    public void fail() {
        mode = Mode.FAIL;
    }

    /** Accepts only this service credential, as a user-service configured with another secret would. */
    public void acceptServiceToken(String token) {
        acceptedToken = token;
    }

    /** Back to a healthy user-service on the same port. */
    public synchronized void reset() {
        mode = Mode.ANSWER;
        acceptedToken = SERVICE_TOKEN;
        delaysMillis.clear();
        held.forEach(request -> request.connection().close());
        held.clear();
        if (server == null) {
            listen(port);
        }
    }

    @Override
    public void close() {
        stop();
        await(vertx.close());
    }

    private synchronized void listen(int onPort) {
        server = await(vertx.createHttpServer().requestHandler(this::handle).listen(onPort, "127.0.0.1"));
        port = server.actualPort();
    }

    private void handle(HttpServerRequest request) {
        request.body().onSuccess(body -> {
            if (!"POST".equals(request.method().name()) || !"/internal/credentials".equals(request.path())) {
                request.response().setStatusCode(404).end();
                return;
            }
            totalCalls.incrementAndGet();
            JsonObject credentials = body.toJsonObject();
            String email = credentials.getString("email", "");
            calls.computeIfAbsent(email.toLowerCase(Locale.ROOT), k -> new AtomicInteger()).incrementAndGet();
            switch (mode) {
                case HANG -> held.add(request);
                case FAIL -> request.response().setStatusCode(500).end();
                case ANSWER -> {
                    long delay = delaysMillis.getOrDefault(email.toLowerCase(Locale.ROOT), 0L);
                    String password = credentials.getString("password", "");
                    if (delay > 0) {
                        vertx.setTimer(delay, id -> answer(request, email, password));
                    } else {
                        answer(request, email, password);
                    }
                }
            }
        });
    }

    private void answer(HttpServerRequest request, String email, String password) {
        if (!acceptedToken.equals(request.getHeader("X-Service-Token"))) {
            json(request, 401, NO_CREDENTIAL);
            return;
        }
        StubUser user = users.get(email.toLowerCase(Locale.ROOT));
        if (user == null || !user.password().equals(password)) {
            json(request, 401, INVALID);
            return;
        }
        json(request, 200, user.json().encode());
    }

    private static void json(HttpServerRequest request, int status, String body) {
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("user-service stub: " + e, e);
        }
    }
}
