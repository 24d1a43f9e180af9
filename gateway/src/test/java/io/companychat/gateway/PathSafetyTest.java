package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.companychat.gateway.support.RawClient;
import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Nothing but the public routes is reachable: not by unknown paths, not by path tricks. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PathSafetyTest {

    @TestHTTPResource("/")
    URL gateway;

    private RawClient raw;

    @BeforeAll
    void openClient() {
        raw = new RawClient(gateway.getPort());
    }

    @AfterAll
    void closeClient() throws Exception {
        raw.close();
    }

    @ParameterizedTest(name = "{0} is 404")
    @ValueSource(strings = { "/nothing.js", "/js", "/api/other", "/api", "/api/usersx", "/api/login/extra", "/internal/credentials",
            "/internal/users/7", "/q/health", "/q/health/ready", "/q/metrics", "/socket", "/.well-knownx" })
    void unknownPathIs404(String path) {
        Response response = given().get(path);

        assertThat(response.statusCode()).as("status of %s", path).isEqualTo(404);
        assertThat(response.contentType()).isEqualTo("application/json");
        assertThat(response.jsonPath().getString("message")).isEqualTo("not found");
    }

    @Test
    void unknownPathIs404ForEveryMethod() {
        Response response = given().body("{}").post("/internal/credentials");

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.jsonPath().getString("message")).isEqualTo("not found");
    }

    @ParameterizedTest(name = "{0} is 400")
    @ValueSource(strings = {
            "/api/users/../internal/x",
            "/api/users/./../../internal/x",
            "/api/users/..",
            "/api/users/..;/internal/x",
            "/api/users/%2e%2e/internal/x",
            "/api/users/%2E%2E/internal/x",
            "/api/users/.%2e/internal/x",
            "/api/users/..%2finternal%2fx",
            "/api/users%2F..%2Finternal",
            "/api/users/%5c..%5cinternal",
            "/socket/../internal/x?token=abc",
    })
    void pathTrickIs400(String rawUri) throws Exception {
        RawClient.Response response = raw.get(rawUri);

        assertThat(response.status()).as("status of %s", rawUri).isEqualTo(400);
        assertThat(response.headers().get("Content-Type")).isEqualTo("application/json");
        assertThat(response.json().getString("message")).as("message for %s", rawUri).isNotBlank();
    }

    @Test
    void rawBackslashIs400() throws Exception {
        // Vert.x's HTTP decoder refuses a raw backslash in the request target before any route runs (empty 400 body);
        // the gateway's own check covers what gets past it.
        RawClient.Response response = raw.get("/api/users/\\..\\internal\\x");

        assertThat(response.status()).isEqualTo(400);
    }

    @Test
    void pathIsForwardedNormalized() throws Exception {
        RawClient.Response response = raw.get("/api//conversations/%33/messages?limit=5");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.json().getString("path")).isEqualTo("/api/conversations/3/messages");
        assertThat(response.json().getString("query")).isEqualTo("limit=5");
    }
}
