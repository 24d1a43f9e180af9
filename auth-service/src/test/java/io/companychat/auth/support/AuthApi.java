package io.companychat.auth.support;

import static io.restassured.RestAssured.given;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import org.jose4j.json.JsonUtil;

import io.companychat.common.testing.JwtForgery;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

/**
 * auth-service's HTTP API as a client sees it through the gateway: each call names its client address in
 * X-Forwarded-For (honoured because the tests connect from a trusted proxy address), by default a fresh one,
 * so that the per-address limit only bites where a test means it to.
 */
public final class AuthApi {

    private AuthApi() {
    }

    public static Response login(String email, String password) {
        return login(email, password, randomClientAddress());
    }

    public static Response login(String email, String password, String clientAddress) {
        return given().contentType(ContentType.JSON)
                .header("X-Forwarded-For", clientAddress)
                .body(Map.of("creds", Map.of("email", email, "password", password)))
                .when().post("/api/login");
    }

    public static Response loginWithBody(String body) {
        return given().contentType(ContentType.JSON).header("X-Forwarded-For", randomClientAddress())
                .body(body).when().post("/api/login");
    }

    /** Logs in and returns the token, failing with the answer if the login did not succeed. */
    public static String tokenFor(String email, String password) {
        Response response = login(email, password);
        if (response.statusCode() != 200) {
            throw new AssertionError("login of " + email + " answered " + response.statusCode() + " " + response.asString());
        }
        return response.jsonPath().getString("data.token");
    }

    public static Response logout(String token) {
        return given().header("Authorization", "Bearer " + token).when().post("/api/logout");
    }

    /** The claims of a JWT, read without verifying it. */
    public static JsonPath payload(String jwt) {
        return JsonPath.from(JwtForgery.claimsOf(jwt).toJson());
    }

    public static JsonPath header(String jwt) {
        return JsonPath.from(JsonUtil.toJson(JwtForgery.headerOf(jwt)));
    }

    /** An address in 198.18.0.0/15 (reserved for tests). */
    public static String randomClientAddress() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "198." + (18 + random.nextInt(2)) + "." + random.nextInt(256) + "." + (1 + random.nextInt(254));
    }

    /** An email no other test uses, so that limits and counts start from zero. */
    public static String uniqueEmail(String label) {
        return label + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    }
}
