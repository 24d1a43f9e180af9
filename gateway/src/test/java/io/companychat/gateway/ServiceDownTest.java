package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.companychat.gateway.support.StubServicesResource;
import io.companychat.gateway.support.StubServicesResource.StubServices;
import io.companychat.gateway.support.RawClient;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;

/** A service that refuses connections or never answers gets the client a 502 JSON answer with Retry-After. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServiceDownTest {

    private static final String LOGIN_BODY = "{\"creds\":{\"email\":\"ada@example.com\",\"password\":\"secret\"}}";

    @TestHTTPResource("/")
    URL gateway;

    /** auth-service and chat-service refuse connections while this class runs; user-service's stand-in hangs on request. */
    StubServices stubs;

    private RawClient raw;

    @BeforeAll
    void takeServicesDown() {
        stubs.down("auth-service");
        stubs.down("chat-service");
        raw = new RawClient(gateway.getPort());
    }

    @AfterAll
    void bringServicesBack() throws Exception {
        raw.close();
        stubs.up("auth-service");
        stubs.up("chat-service");
    }

    @Test
    void refusedConnectionIs502WithRetryAfter() {
        Response response = given().contentType("application/json").body(LOGIN_BODY).post("/api/login");

        assertUnavailable(response, "auth-service");
    }

    @Test
    void refusedConnectionOnGetIs502WithRetryAfter() {
        assertUnavailable(given().get("/api/conversations/3/messages?limit=5"), "chat-service");
    }

    @Test
    void silentServiceIs502AfterRequestTimeout() {
        long started = System.nanoTime();

        Response response = given().header(StubServicesResource.SILENT_HEADER, "true").get("/api/users/7");

        assertUnavailable(response, "user-service");
        assertThat((System.nanoTime() - started) / 1_000_000).as("ms until the gateway gave up").isLessThan(10_000);
    }

    @Test
    void webSocketToDownServiceIs502WithRetryAfter() throws Exception {
        Throwable failure = raw.failedWebSocket("/socket/websocket?token=abc");

        assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
        UpgradeRejectedException rejected = (UpgradeRejectedException) failure;
        assertThat(rejected.getStatus()).isEqualTo(502);
        assertThat(rejected.getHeaders().get("Retry-After")).isEqualTo("5");
        assertThat(rejected.getHeaders().get("Content-Type")).isEqualTo("application/json");
        assertThat(rejected.getBody()).as("body of the refused upgrade").isNotNull();
        assertThat(new JsonObject(rejected.getBody()).getString("message")).isEqualTo("chat-service is unavailable");
    }

    /** The tunnel's connect timeout (gateway.connect-timeout, 3 s here): then 502, as for a refused connection. */
    @Test
    void webSocketToAServiceThatTakesNoConnectionIs502AfterTheConnectTimeout() throws Exception {
        try (AutoCloseable unreachable = stubs.unreachable("chat-service")) {
            long started = System.nanoTime();
            Throwable failure = raw.failedWebSocket("/socket/websocket?token=abc");
            long waited = (System.nanoTime() - started) / 1_000_000;

            assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
            assertThat(((UpgradeRejectedException) failure).getStatus()).isEqualTo(502);
            assertThat(waited).as("ms until the gateway gave up connecting").isBetween(2_500L, 9_000L);
        }
    }

    @Test
    void gatewayStaysUsableAfterFailedWebSocketUpgrade() throws Exception {
        raw.failedWebSocket("/socket/websocket?token=abc");

        assertThat(raw.get("/api/other").status()).isEqualTo(404);
    }

    private static void assertUnavailable(Response response, String service) {
        assertThat(response.statusCode()).as("status when %s is down", service).isEqualTo(502);
        assertThat(response.contentType()).isEqualTo("application/json");
        assertThat(response.header("Retry-After")).isEqualTo("5");
        assertThat(response.jsonPath().getString("message")).isEqualTo(service + " is unavailable");
    }
}
