package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.OtlpReceiver.Span;
import io.companychat.system.RunningSystem.TestUser;
import io.restassured.http.ContentType;

/**
 * Issue 21, "Traces" and "Logs", on the real processes: every service exports its spans over OTLP (to
 * {@link OtlpReceiver}), a request through the gateway is one trace across the services with each server span the
 * child of its caller's client span, the gateway ignores a client's trace context, no span carries a token or a query
 * string, and the prod profile's logs are JSON lines that carry the request's trace id.
 */
@ExtendWith(SystemExtension.class)
class ObservabilityIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SPANS_ARRIVE = Duration.ofSeconds(10);
    /** A trace context a client makes up: the gateway must neither join it nor pass it on. */
    private static final String CLIENT_TRACE_ID = "c0ffee00c0ffee00c0ffee00c0ffee00";
    private static final String CLIENT_TRACEPARENT = "00-" + CLIENT_TRACE_ID + "-00f067aa0ba902b7-01";

    private static RunningSystem system;

    @BeforeAll
    static void record() {
        system.traces().startRecording();
    }

    @AfterAll
    static void stopRecording() {
        system.traces().stopRecording();
    }

    @Test
    void aLoginIsOneTraceFromTheGatewayThroughAuthServiceToUserService() {
        TestUser user = system.register("Tracy");
        given().baseUri(system.gatewayUrl()).contentType(ContentType.JSON)
                .header("traceparent", CLIENT_TRACEPARENT).header("tracestate", "client=forced")
                .body(Map.of("creds", Map.of("email", user.email(), "password", user.password())))
                .when().post("/api/login").then().statusCode(200);

        List<Span> trace = awaitTrace(span -> span.service().equals("user-service") && span.kind() == OtlpReceiver.SERVER
                && "/internal/credentials".equals(span.attribute("url.path")), "user-service's span of the credential check",
                "gateway", "auth-service", "user-service");
        Span gatewayServer = only(trace, "gateway", OtlpReceiver.SERVER);
        assertThat(gatewayServer.parentSpanId()).as("the gateway starts the trace: %s", gatewayServer).isEmpty();
        assertThat(gatewayServer.traceId()).as("the client's trace id is ignored").isNotEqualTo(CLIENT_TRACE_ID);
        Span authServer = only(trace, "auth-service", OtlpReceiver.SERVER);
        Span userServer = only(trace, "user-service", OtlpReceiver.SERVER);
        assertCalledBy(authServer, "gateway", trace);
        assertCalledBy(userServer, "auth-service", trace);
        // the caller's client span is a child (or descendant) of its own server span
        assertDescendsFrom(parentOf(authServer, trace), gatewayServer, trace);
        assertDescendsFrom(parentOf(userServer, trace), authServer, trace);
        assertThat(system.traces().spans()).as("no span joins the client's trace")
                .noneMatch(span -> span.traceId().equals(CLIENT_TRACE_ID));
    }

    @Test
    void aSocketUpgradeThroughTheGatewayJoinsTheGatewaysTraceInChatService() throws Exception {
        TestUser user = system.register("Sockette");
        String token = system.login(user);
        try (PhoenixTestSocket socket = PhoenixTestSocket.open(
                java.net.URI.create(system.wsBase("gateway") + "/socket/websocket?token=" + token + "&vsn=2.0.0"),
                Map.of("traceparent", CLIENT_TRACEPARENT))) {
            socket.joinChat(Map.of());
            List<Span> trace = awaitTrace(span -> span.service().equals("chat-service") && span.kind() == OtlpReceiver.SERVER
                    && "/socket/websocket".equals(span.attribute("url.path")), "chat-service's span of the socket upgrade",
                    "gateway", "chat-service");
            Span chatServer = trace.stream().filter(span -> span.service().equals("chat-service")
                    && span.kind() == OtlpReceiver.SERVER && "/socket/websocket".equals(span.attribute("url.path")))
                    .findFirst().orElseThrow();
            // chat-service's first ancestor outside chat-service (websockets-next may add a span of its own between)
            Span tunnel = parentOf(chatServer, trace);
            while (tunnel != null && tunnel.service().equals("chat-service")) {
                tunnel = parentOf(tunnel, trace);
            }
            assertThat(tunnel).as("the caller of %s in %s", chatServer, trace).isNotNull();
            assertThat(tunnel.service()).as("the caller of %s in %s", chatServer, trace).isEqualTo("gateway");
            assertThat(tunnel.kind()).as("the gateway's span of the tunnel: %s", tunnel).isEqualTo(OtlpReceiver.CLIENT);
            assertThat(tunnel.traceId()).isNotEqualTo(CLIENT_TRACE_ID);
        }
    }

    @Test
    void noSpanCarriesATokenOrAQueryString() {
        TestUser user = system.register("Quentin");
        String token = system.login(user);
        String searched = "needle" + UUID.randomUUID().toString().replace("-", "");
        given().baseUri(system.gatewayUrl()).header("authorization", "Bearer " + token)
                .queryParam("q", searched).when().get("/api/messages/search").then().statusCode(200);
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect(system.wsBase("gateway"), token)) {
            socket.joinChat(Map.of());
        }
        awaitTrace(span -> span.service().equals("chat-service") && span.kind() == OtlpReceiver.SERVER
                && "/api/messages/search".equals(span.attribute("url.path")), "chat-service's span of the search",
                "gateway", "chat-service");
        awaitTrace(span -> span.service().equals("chat-service") && span.kind() == OtlpReceiver.SERVER
                && "/socket/websocket".equals(span.attribute("url.path")), "chat-service's span of the socket upgrade",
                "gateway", "chat-service");

        List<Span> spans = system.traces().spans();
        String signature = token.substring(token.lastIndexOf('.') + 1);
        for (Span span : spans) {
            for (Map.Entry<String, String> attribute : span.attributes().entrySet()) {
                String value = attribute.getValue();
                assertThat(value).as("%s of %s", attribute.getKey(), span)
                        .doesNotContain(signature).doesNotContain(searched).doesNotContain("token=");
                if (attribute.getKey().equals("url.query")) {
                    assertThat(value).as("the query of %s", span).isEqualTo("[redacted]");
                } else if (!attribute.getKey().equals("http.route")
                        && (attribute.getKey().startsWith("url.") || attribute.getKey().startsWith("http."))) {
                    // (the route is the gateway's path pattern, a regular expression, not a URL)
                    assertThat(value).as("%s of %s", attribute.getKey(), span).doesNotContain("?");
                }
            }
            // (a gateway span's name holds its route, a regular expression: "?" is no sign of a query there)
            assertThat(span.name()).as("a span's name").doesNotContain(signature).doesNotContain(searched)
                    .doesNotContain("token=");
        }
        assertThat(spans).as("the search's spans were looked at")
                .anyMatch(span -> "[redacted]".equals(span.attribute("url.query")));
    }

    /**
     * auth-service in the prod profile: every line of its log (from its start) is one JSON object, with an ISO-8601
     * UTC timestamp; the line a refused login writes carries the trace id of that login's spans.
     */
    @Test
    void logsAreJsonLinesAndARequestsLineCarriesItsTraceId() throws IOException {
        String email = "locked-" + UUID.randomUUID() + "@example.com";
        int status = 0;
        for (int attempt = 0; attempt < 10 && status != 429; attempt++) {
            status = given().baseUri(system.gatewayUrl()).contentType(ContentType.JSON)
                    .body(Map.of("creds", Map.of("email", email, "password", "wrong-" + attempt)))
                    .when().post("/api/login").statusCode();
        }
        assertThat(status).as("the email is locked out after repeated failures").isEqualTo(429);
        List<Span> trace = awaitTrace(span -> span.service().equals("auth-service") && span.kind() == OtlpReceiver.SERVER
                && "429".equals(span.attribute("http.response.status_code")), "auth-service's span of the refused login",
                "gateway", "auth-service");
        String traceId = trace.get(0).traceId();

        Awaitility.await("auth-service's log line of the refused login").atMost(SPANS_ARRIVE).untilAsserted(() -> {
            List<String> lines = Files.readAllLines(system.service("auth-service").log());
            assertThat(lines).as("auth-service's log").isNotEmpty();
            Optional<JsonNode> refusal = Optional.empty();
            for (String line : lines) {
                JsonNode entry;
                try {
                    entry = JSON.readTree(line);
                } catch (IOException e) {
                    throw new AssertionError("not a JSON line in auth-service's log: " + line, e);
                }
                assertThat(entry.isObject()).as("a JSON object: %s", line).isTrue();
                assertThat(entry.path("timestamp").asText()).as("an ISO-8601 UTC timestamp: %s", line)
                        .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
                if (entry.path("message").asText().startsWith("Login refused: too many failed logins")
                        && traceId.equals(entry.path("mdc").path("traceId").asText())) {
                    refusal = Optional.of(entry);
                }
            }
            assertThat(refusal).as("a 'Login refused' line with the trace id %s (mdc.traceId)", traceId).isPresent();
        });
    }

    /** Waits until the trace of the span {@code anchor} matches has a span of each named service; returns it. */
    private static List<Span> awaitTrace(Predicate<Span> anchor, String what, String... services) {
        try {
            return Awaitility.await(what + " and its trace").atMost(SPANS_ARRIVE).pollInterval(Duration.ofMillis(200))
                    .until(() -> traceOf(anchor, services), trace -> trace != null);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no " + what + " with spans of " + List.of(services) + " in its trace within "
                    + SPANS_ARRIVE + " (" + system.traces().summary() + ")", e);
        }
    }

    private static List<Span> traceOf(Predicate<Span> anchor, String... services) {
        List<Span> spans = system.traces().spans();
        for (Span candidate : spans) {
            if (anchor.test(candidate)) {
                List<Span> trace = spans.stream().filter(span -> span.traceId().equals(candidate.traceId())).toList();
                // Every service's span there, and every server span's caller too: a client span ends after the server
                // span it called, so it can come in a later export (CI once saw auth-service's arrive after the check).
                boolean complete = List.of(services).stream().allMatch(service -> trace.stream()
                        .anyMatch(span -> span.service().equals(service)
                                && (span.kind() == OtlpReceiver.SERVER || service.equals("gateway"))))
                        && trace.stream().allMatch(span -> span.kind() != OtlpReceiver.SERVER || span.parentSpanId().isEmpty()
                                || parentOf(span, trace) != null);
                if (complete) {
                    return trace;
                }
            }
        }
        return null;
    }

    private static Span only(List<Span> trace, String service, int kind) {
        List<Span> found = trace.stream().filter(span -> span.service().equals(service) && span.kind() == kind).toList();
        assertThat(found).as("%s's %s spans in %s", service, kind == OtlpReceiver.SERVER ? "server" : "client", trace).hasSize(1);
        return found.get(0);
    }

    private static Span parentOf(Span span, List<Span> trace) {
        return trace.stream().filter(other -> other.spanId().equals(span.parentSpanId())).findFirst().orElse(null);
    }

    /** The server span's parent is a client span of the calling service, in the same trace. */
    private static void assertCalledBy(Span server, String caller, List<Span> trace) {
        Span parent = parentOf(server, trace);
        assertThat(parent).as("the parent (%s) of %s among %s", server.parentSpanId(), server, trace).isNotNull();
        assertThat(parent.service()).as("the caller of %s", server).isEqualTo(caller);
        assertThat(parent.kind()).as("the calling span %s", parent).isEqualTo(OtlpReceiver.CLIENT);
    }

    private static void assertDescendsFrom(Span span, Span ancestor, List<Span> trace) {
        for (Span current = span; current != null; current = parentOf(current, trace)) {
            if (current.spanId().equals(ancestor.spanId())) {
                return;
            }
        }
        throw new AssertionError(span + " does not descend from " + ancestor + " in " + trace);
    }
}
