package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.LogCapture;
import io.companychat.gateway.support.ManagementUrls;
import io.companychat.gateway.support.RawClient;
import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Tokens ride in query strings; neither the log nor the metrics may ever show one. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class TokenLeakTest {

    private static final String SECRET_TOKEN = "secret-token-in-query-7f3a";
    private static final String CANARY = "log-capture-canary";

    URL metrics = ManagementUrls.of("/q/metrics");

    @TestHTTPResource("/")
    URL gateway;

    /** One round of requests carrying the token (the last waits out the request timeout), checked in the log and the metrics. */
    @Test
    void queryStringIsNeverLoggedNorInTheMetrics() throws Exception {
        try (LogCapture log = LogCapture.start(); RawClient raw = new RawClient(gateway.getPort())) {
            Logger.getLogger(TokenLeakTest.class).info(CANARY);

            sendRequestsCarryingTheToken(raw);

            assertThat(log.lines()).as("captured log").anyMatch(line -> line.contains(CANARY))
                    .noneMatch(line -> line.contains(SECRET_TOKEN));
        }

        Response response = given().get(metrics);

        assertThat(response.statusCode()).as("GET %s", metrics).isEqualTo(200);
        assertThat(response.asString()).as("Prometheus metrics").contains("http_server_requests")
                .doesNotContain(SECRET_TOKEN);
    }

    private static void sendRequestsCarryingTheToken(RawClient raw) throws Exception {
        String query = "?token=" + SECRET_TOKEN;
        assertThat(raw.get("/api/users" + query).status()).isEqualTo(200);
        assertThat(raw.get("/socket/websocket" + query).status()).isEqualTo(200);
        assertThat(raw.get("/internal/x" + query).status()).isEqualTo(404);
        assertThat(raw.get("/api/users/../internal/x" + query).status()).isEqualTo(400);
        RawClient.OpenWebSocket ws = raw.openWebSocket("/socket/websocket" + query);
        ws.socket().close();
        raw.failedWebSocket(StubServicesResource.SILENT_SOCKET_PATH + query);
    }
}
