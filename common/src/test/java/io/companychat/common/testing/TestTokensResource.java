package io.companychat.common.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * A stand-in for auth-service over real HTTP: it publishes the JWKS of this run's
 * {@link TestTokens} and the list of revoked tokens, so a service under test verifies and
 * revokes tokens exactly as it does in production. Test fields annotated with
 * {@link InjectTestTokens} receive the {@link TestTokens}.
 */
public class TestTokensResource implements QuarkusTestResourceLifecycleManager {

    /** What the services under test are configured with in their {@code %test} profile. */
    public static final String SERVICE_TOKEN = "test-only-service-token";

    private TestTokens tokens;
    private HttpServer server;

    @Override
    public Map<String, String> start() {
        tokens = TestTokens.create();
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/.well-known/jwks.json", exchange -> respond(exchange, 200, tokens.jwks()));
        server.createContext("/internal/revoked-tokens", exchange -> {
            if (!SERVICE_TOKEN.equals(exchange.getRequestHeaders().getFirst("X-Service-Token"))) {
                respond(exchange, 401, "{\"message\":\"service credential required\"}");
            } else if (!tokens.revocationListAvailable()) {
                respond(exchange, 503, "{\"message\":\"auth-service is unavailable\"}");
            } else {
                respond(exchange, 200, tokens.revocationListJson());
            }
        });
        server.start();
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        return Map.of(
                "mp.jwt.verify.publickey.location", base + "/.well-known/jwks.json",
                "quarkus.rest-client.auth-service.url", base);
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(tokens, new TestInjector.AnnotatedAndMatchesType(InjectTestTokens.class, TestTokens.class));
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static void respond(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
