package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;

import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Health and metrics live on the management port only, and metrics never carry a query string. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class ManagementTest {

    private static final String SECRET_TOKEN = "secret-token-in-query-7f3a";

    // management URLs are rooted at the management root path, /q
    @TestHTTPResource(value = "/health/ready", management = true)
    URL readiness;

    @TestHTTPResource(value = "/health/live", management = true)
    URL liveness;

    @TestHTTPResource(value = "/metrics", management = true)
    URL metrics;

    @TestHTTPResource("/")
    URL gateway;

    @Test
    void managementPortIsNotThePublicPort() {
        assertThat(readiness.getPort()).isNotEqualTo(gateway.getPort());
    }

    @Test
    void readinessIsUpOnManagementPort() {
        Response response = given().get(readiness);

        assertThat(response.statusCode()).as("GET %s: %s", readiness, response.asString()).isEqualTo(200);
        assertThat(response.jsonPath().getString("status")).isEqualTo("UP");
    }

    @Test
    void livenessIsUpOnManagementPort() {
        Response response = given().get(liveness);

        assertThat(response.statusCode()).as("GET %s: %s", liveness, response.asString()).isEqualTo(200);
        assertThat(response.jsonPath().getString("status")).isEqualTo("UP");
    }

    @Test
    void metricsNeverContainQueryStrings() {
        given().get("/socket/websocket?token=" + SECRET_TOKEN).then().statusCode(200);
        given().get("/api/users?token=" + SECRET_TOKEN).then().statusCode(200);
        given().get("/internal/x?token=" + SECRET_TOKEN).then().statusCode(404);

        Response response = given().get(metrics);

        assertThat(response.statusCode()).as("GET %s", metrics).isEqualTo(200);
        assertThat(response.asString()).as("Prometheus metrics").contains("http_server_requests")
                .doesNotContain(SECRET_TOKEN);
    }
}
