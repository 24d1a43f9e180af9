package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;

import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.ManagementUrls;
import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Health and metrics live on the management port only. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class ManagementTest {

    URL readiness = ManagementUrls.of("/q/health/ready");

    URL liveness = ManagementUrls.of("/q/health/live");

    URL metrics = ManagementUrls.of("/q/metrics");

    @TestHTTPResource("/")
    URL gateway;

    @Test
    void managementPortIsNotThePublicPort() {
        assertThat(readiness.getPort()).as("management URL %s, public URL %s", readiness, gateway).isNotEqualTo(gateway.getPort());
    }

    @Test
    void readinessIsUpOnManagementPort() {
        Response response = given().get(readiness);

        assertThat(response.statusCode()).as("GET %s: %s", readiness, response.asString()).isEqualTo(200);
        assertThat(response.jsonPath().getString("status")).isEqualTo("UP");
    }

    @Test
    void metricsAreOnManagementPort() {
        Response response = given().get(metrics);

        assertThat(response.statusCode()).as("GET %s", metrics).isEqualTo(200);
        assertThat(response.asString()).contains("jvm_memory_used_bytes");
    }

    @Test
    void livenessIsUpOnManagementPort() {
        Response response = given().get(liveness);

        assertThat(response.statusCode()).as("GET %s: %s", liveness, response.asString()).isEqualTo(200);
        assertThat(response.jsonPath().getString("status")).isEqualTo("UP");
    }
}
