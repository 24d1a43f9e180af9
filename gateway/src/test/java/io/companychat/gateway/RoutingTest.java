package io.companychat.gateway;

import static io.companychat.gateway.support.StubServicesResource.CUSTOM_HEADER;
import static io.companychat.gateway.support.StubServicesResource.REPLY_HEADER;
import static io.companychat.gateway.support.StubServicesResource.SERVICE_HEADER;
import static io.companychat.gateway.support.StubServicesResource.STATUS_HEADER;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

/** Each public prefix of API.md reaches its service, with method, body, status and headers passed through. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class RoutingTest {

    private static final String USER_BODY = "{\"user\":{\"name\":\"Ada\",\"subname\":\"Lovelace\",\"email\":\"ada@example.com\",\"job\":\"engineer\"}}";
    private static final String VALIDATION_ERROR = "{\"errors\":{\"email\":[\"has invalid format\"]}}";
    private static final String CUSTOM_VALUE = "custom-value-42";
    private static final String SPOOFED_ADDRESS = "203.0.113.7";
    /** gateway.max-body-size, the services' own limit. */
    private static final int LARGE_BODY_CHARS = 64 * 1024;

    @ParameterizedTest(name = "{0} {1} reaches {2}")
    @CsvSource({
            "GET,    /api/users,                  user-service",
            "POST,   /api/users,                  user-service",
            "GET,    /api/users/7,                user-service",
            "GET,    /api/users/me,               user-service",
            "PUT,    /api/users/me/password,      user-service",
            "POST,   /api/login,                  auth-service",
            "POST,   /api/logout,                 auth-service",
            "GET,    /.well-known/jwks.json,      auth-service",
            "GET,    /api/conversations,          chat-service",
            "POST,   /api/conversations,          chat-service",
            "GET,    /api/conversations/3/messages, chat-service",
            "POST,   /api/conversations/3/messages, chat-service",
            "PATCH,  /api/conversations/3/messages/4, chat-service",
            "DELETE, /api/conversations/3/messages/4, chat-service",
            "POST,   /api/conversations/3/read, chat-service",
            "GET,    /api/conversations/3/reads, chat-service",
            "GET,    /api/messages/search,        chat-service",
    })
    void apiPrefixReachesItsService(String method, String path, String service) {
        Response response = given().header(CUSTOM_HEADER, CUSTOM_VALUE).body("{}").contentType("application/json")
                .request(method, path);

        assertThat(response.statusCode()).as("status of %s %s", method, path).isEqualTo(200);
        JsonPath echoed = response.jsonPath();
        assertThat(echoed.getString("service")).as("service that answered %s %s", method, path).isEqualTo(service);
        assertThat(echoed.getString("method")).isEqualTo(method);
        assertThat(echoed.getString("path")).isEqualTo(path);
        assertThat(echoed.getString("body")).isEqualTo("{}");
        assertThat(echoed.getString("headers.x-custom")).as("custom request header").isEqualTo(CUSTOM_VALUE);
        assertThat(response.header(SERVICE_HEADER)).as("response header from the service").isEqualTo(service);
        assertThat(response.header(REPLY_HEADER)).isEqualTo(CUSTOM_VALUE);
    }

    /** Issue 20: chat-service given as two replicas (CHAT_SERVICE_URL a list, the local run's CHAT_REPLICAS): both get requests, in turn. */
    @Test
    void chatServiceReplicasGetRequestsInTurn() {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ports.add(given().get("/api/conversations").then().statusCode(200).extract().jsonPath().getInt("port"));
        }
        assertThat(new HashSet<>(ports)).as("chat-service ports that answered").hasSize(2);
        for (int i = 1; i < ports.size(); i++) {
            assertThat(ports.get(i)).as("request %d went to the other replica than the one before", i).isNotEqualTo(ports.get(i - 1));
        }
    }

    @Test
    void queryStringIsForwarded() {
        JsonPath echoed = given().get("/api/conversations/3/messages?limit=5&before=17").then().statusCode(200)
                .extract().jsonPath();

        assertThat(echoed.getString("service")).isEqualTo("chat-service");
        assertThat(echoed.getString("path")).isEqualTo("/api/conversations/3/messages");
        assertThat(echoed.getString("query")).isEqualTo("limit=5&before=17");
    }

    @Test
    void createdStatusAndBodyPassThrough() {
        Response response = given().header(STATUS_HEADER, "201").contentType("application/json").body(USER_BODY)
                .post("/api/users");

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.contentType()).isEqualTo("application/json");
        assertThat(response.jsonPath().getString("body")).as("request body as the service received it")
                .isEqualTo(USER_BODY);
    }

    @Test
    void bodyAtTheLimitPassesThroughIntact() {
        String body = "x".repeat(LARGE_BODY_CHARS - 1) + "!";

        Response response = given().contentType("text/plain").body(body).put("/api/users/me/password");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.jsonPath().getString("body")).as("a %d-character body as the service received it",
                LARGE_BODY_CHARS).isEqualTo(body);
    }

    @Test
    void bodyOverTheLimitIs413WithAMessageFromTheGatewayItself() {
        Response response = given().contentType("application/json").body("x".repeat(LARGE_BODY_CHARS + 1))
                .post("/api/users");

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.jsonPath().getString("message")).isEqualTo("request body too large");
        assertThat(response.header(SERVICE_HEADER)).as("header of a service that answered").isNull();
        assertThat(given().body("{}").contentType("application/json").post("/api/users").statusCode())
                .as("the next request").isEqualTo(200);
    }

    @Test
    void errorStatusPassesThrough() {
        Response response = given().header(STATUS_HEADER, "422").contentType("application/json")
                .body(VALIDATION_ERROR).post("/api/conversations");

        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.jsonPath().getString("service")).isEqualTo("chat-service");
    }

    @Test
    void badGatewayFromTheServiceItselfPassesThroughUntouched() {
        Response response = given().header(STATUS_HEADER, "502").get("/api/users/7");

        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.jsonPath().getString("service")).as("the service's own 502 body").isEqualTo("user-service");
        assertThat(response.header("Retry-After")).isNull();
    }

    @Test
    void forwardedForIsTheClientAddress() throws Exception {
        JsonPath echoed = given().get("/api/users").then().statusCode(200).extract().jsonPath();

        String forwardedFor = echoed.getString("headers.x-forwarded-for");
        assertThat(forwardedFor).as("X-Forwarded-For seen by the service").isNotBlank();
        assertThat(InetAddress.getByName(forwardedFor).isLoopbackAddress())
                .as("X-Forwarded-For %s is the test client's loopback address", forwardedFor).isTrue();
    }

    @Test
    void spoofedForwardingHeadersAreReplaced() throws Exception {
        JsonPath echoed = given()
                .header("X-Forwarded-For", SPOOFED_ADDRESS)
                .header("Forwarded", "for=" + SPOOFED_ADDRESS)
                .header("X-Real-IP", SPOOFED_ADDRESS)
                .header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-Host", "evil.example.com")
                .header("X-Forwarded-Port", "443")
                .header("X-Forwarded-Prefix", "/internal")
                .header("x-forwarded-ssl", "on")
                .header("X-FORWARDED-SERVER", "evil.example.com")
                .post("/api/login").then().statusCode(200).extract().jsonPath();

        String forwardedFor = echoed.getString("headers.x-forwarded-for");
        assertThat(forwardedFor).doesNotContain(SPOOFED_ADDRESS);
        assertThat(InetAddress.getByName(forwardedFor).isLoopbackAddress()).isTrue();
        assertThat(echoed.getString("headers.forwarded")).as("client-sent Forwarded").isNull();
        assertThat(echoed.getString("headers.x-real-ip")).as("client-sent X-Real-IP").isNull();
        assertThat(echoed.getString("headers.x-forwarded-proto")).as("client-sent X-Forwarded-Proto").isNull();
        assertThat(echoed.getString("headers.x-forwarded-host")).as("X-Forwarded-Host: the host the client addressed, "
                + "not the one it sent").isEqualTo("localhost:" + RestAssured.port);
        for (String header : new String[] { "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-ssl", "x-forwarded-server" }) {
            assertThat(echoed.getString("headers." + header)).as("client-sent %s", header).isNull();
        }
    }

    @Test
    void clientSentServiceCredentialIsNeverForwarded() {
        for (String path : new String[] { "/api/users", "/api/login", "/api/conversations" }) {
            JsonPath echoed = given().header("X-Service-Token", "guessed-credential").post(path)
                    .then().statusCode(200).extract().jsonPath();

            assertThat(echoed.getString("headers.x-service-token")).as("X-Service-Token the service got on %s", path).isNull();
        }
    }
}
