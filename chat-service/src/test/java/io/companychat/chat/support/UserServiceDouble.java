package io.companychat.chat.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

/**
 * user-service as chat-service sees it, over real HTTP on a loopback port: {@code GET
 * /internal/users/{id}} answers 200 with the user for registered ids and 404 for others, and
 * 401 without the service credential. Tests register the ids of the users rows they insert,
 * take the service down, or slow it.
 */
public class UserServiceDouble implements QuarkusTestResourceLifecycleManager {

    public static final String SERVICE_TOKEN = TestTokensResource.SERVICE_TOKEN;

    private static final Pattern USER_PATH = Pattern.compile("/internal/users/(\\d{1,18})");

    private final Set<Long> known = ConcurrentHashMap.newKeySet();
    private final List<String> presentedTokens = new CopyOnWriteArrayList<>();
    private volatile Duration delay = Duration.ZERO;
    private final List<Runnable> held = new ArrayList<>();
    private int batch = 1;
    private Vertx vertx;
    private HttpServer server;
    private int port;

    @Override
    public Map<String, String> start() {
        vertx = Vertx.vertx();
        listen(0);
        return Map.of("quarkus.rest-client.user-service.url", "http://127.0.0.1:" + port);
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(this,
                new TestInjector.AnnotatedAndMatchesType(InjectUserService.class, UserServiceDouble.class));
    }

    @Override
    public void stop() {
        if (vertx != null) {
            await(vertx.close().toCompletionStage());
        }
    }

    public void register(long userId) {
        known.add(userId);
    }

    /** Every X-Service-Token value presented so far, in order. */
    public List<String> presentedTokens() {
        return List.copyOf(presentedTokens);
    }

    /** Closes the port: connections are refused until {@link #comeBack()}. */
    public void goDown() {
        await(server.close().toCompletionStage());
    }

    public void comeBack() {
        listen(port);
    }

    public void answerAfter(Duration delay) {
        this.delay = delay;
    }

    /**
     * Holds answers until {@code requests} lookups are waiting, then answers them all at once, so
     * that callers racing each other really are in flight together (or after a few seconds, so
     * that a test that sends fewer does not hang). 1 answers each at once.
     */
    public synchronized void answerTogether(int requests) {
        batch = requests;
        releaseHeld();
    }

    private void listen(int requestedPort) {
        server = vertx.createHttpServer().requestHandler(this::handle);
        await(server.listen(requestedPort, "127.0.0.1").toCompletionStage());
        port = server.actualPort();
    }

    private void handle(HttpServerRequest request) {
        Matcher user = USER_PATH.matcher(request.path());
        if (request.method() != HttpMethod.GET || !user.matches()) {
            respond(request, 404, "{\"message\":\"not found\"}");
            return;
        }
        String token = request.getHeader("X-Service-Token");
        presentedTokens.add(String.valueOf(token));
        if (!SERVICE_TOKEN.equals(token)) {
            respond(request, 401, "{\"message\":\"service credential required\"}");
            return;
        }
        long id = Long.parseLong(user.group(1));
        Runnable answer = () -> {
            if (known.contains(id)) {
                respond(request, 200, "{\"id\":" + id + ",\"name\":\"User\",\"subname\":\"" + id
                        + "\",\"email\":\"user" + id + "@example.com\",\"job\":\"Engineer\"}");
            } else {
                respond(request, 404, "{\"message\":\"not found\"}");
            }
        };
        long millis = delay.toMillis();
        if (millis > 0) {
            vertx.setTimer(millis, timer -> hold(answer));
        } else {
            hold(answer);
        }
    }

    private synchronized void hold(Runnable answer) {
        held.add(answer);
        if (held.size() >= batch) {
            releaseHeld();
        } else if (held.size() == 1) {
            // Never hold a lookup past chat-service's 2 s client timeout: on a loaded machine the
            // second request may come late, and the first must still be answered, not time out.
            vertx.setTimer(1500, timer -> releaseHeldNow());
        }
    }

    private synchronized void releaseHeldNow() {
        releaseHeld();
    }

    private void releaseHeld() {
        held.forEach(Runnable::run);
        held.clear();
    }

    private static void respond(HttpServerRequest request, int status, String json) {
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(json);
    }

    private static <T> T await(java.util.concurrent.CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("user-service double: " + e, e);
        }
    }
}
