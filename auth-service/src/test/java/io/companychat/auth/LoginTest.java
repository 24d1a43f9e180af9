package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.header;
import static io.companychat.auth.support.AuthApi.login;
import static io.companychat.auth.support.AuthApi.loginWithBody;
import static io.companychat.auth.support.AuthApi.payload;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.keys.resolvers.JwksVerificationKeyResolver;
import org.junit.jupiter.api.Test;

import io.companychat.auth.support.TestKeys;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;

/** POST /api/login: the original's answer, the token of API.md, and the refusals. Through real HTTP. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class LoginTest {

    private static final String PASSWORD = "Emailed-password-7Qx9";
    private static final String WRONG_PASSWORD = "not-the-emailed-password";
    private static final long ONE_HOUR = 3600;
    private static final String INVALID_CREDENTIALS = "{\"message\":\"invalid email or password\"}";

    UserServiceStub userService;
    TestKeys keys;

    @Test
    void loginWithTheEmailedPasswordAnswersTheOriginalShapeAndHeader() {
        StubUser ada = userService.register(uniqueEmail("ada"), PASSWORD);

        Response response = login(ada.email(), PASSWORD);

        assertThat(response.statusCode()).as("status, body %s", response.asString()).isEqualTo(200);
        JsonPath body = response.jsonPath();
        assertThat(body.getMap("$")).containsOnlyKeys("data");
        assertThat(body.getMap("data")).containsOnlyKeys("user", "token", "expire");
        assertThat(body.getMap("data.user")).isEqualTo(Map.of("id", (int) ada.id(), "name", ada.name(),
                "subname", ada.subname(), "email", ada.email(), "job", ada.job()));
        String token = body.getString("data.token");
        assertThat(response.header("authorization")).isEqualTo("Bearer " + token);
        assertThat(response.header("Cache-Control")).isEqualTo("no-store");
        assertThat(body.getLong("data.expire")).isEqualTo(payload(token).getLong("exp"));
        assertThat(response.asString()).doesNotContain(PASSWORD);
    }

    @Test
    void tokenCarriesTheClaimsOfApiMd() {
        StubUser ada = userService.register(uniqueEmail("claims"), PASSWORD);
        long before = Instant.now().getEpochSecond();

        String token = login(ada.email(), PASSWORD).then().statusCode(200).extract().path("data.token");

        JsonPath claims = payload(token);
        assertThat(claims.getString("iss")).isEqualTo("company-chat");
        assertThat(claims.getString("sub")).isEqualTo(Long.toString(ada.id()));
        assertThat(claims.getString("upn")).isEqualTo(ada.email());
        assertThat(claims.getList("groups")).containsExactly("user");
        assertThat(UUID.fromString(claims.getString("jti"))).isNotNull();
        assertThat(claims.getLong("iat")).isBetween(before - 1, Instant.now().getEpochSecond());
        assertThat(claims.getLong("exp") - claims.getLong("iat")).as("default lifetime").isEqualTo(ONE_HOUR);
        assertThat(header(token).getString("alg")).isEqualTo("RS256");
        assertThat(header(token).getString("kid")).isEqualTo(keys.currentKeyId());
    }

    @Test
    void everyLoginGetsItsOwnTokenId() {
        StubUser ada = userService.register(uniqueEmail("twice"), PASSWORD);

        String first = login(ada.email(), PASSWORD).then().statusCode(200).extract().path("data.token");
        String second = login(ada.email(), PASSWORD).then().statusCode(200).extract().path("data.token");

        assertThat(payload(first).getString("jti")).isNotEqualTo(payload(second).getString("jti"));
    }

    /** What user-service and chat-service do: verify with the JWKS, issuer and expiry. */
    @Test
    void tokenVerifiesWithThePublishedKeys() throws Exception {
        StubUser ada = userService.register(uniqueEmail("jwks"), PASSWORD);
        String token = login(ada.email(), PASSWORD).then().statusCode(200).extract().path("data.token");
        JsonWebKeySet jwks = new JsonWebKeySet(given().when().get("/.well-known/jwks.json").then().statusCode(200)
                .extract().asString());

        JwtClaims claims = new JwtConsumerBuilder()
                .setVerificationKeyResolver(new JwksVerificationKeyResolver(jwks.getJsonWebKeys()))
                .setExpectedIssuer("company-chat")
                .setRequireExpirationTime()
                .setRequireJwtId()
                .setSkipDefaultAudienceValidation()
                .build()
                .processToClaims(token);

        assertThat(claims.getSubject()).isEqualTo(Long.toString(ada.id()));
    }

    @Test
    void wrongPasswordAndUnknownEmailGetTheSame401AndTakeTheSamePath() {
        StubUser ada = userService.register(uniqueEmail("same"), PASSWORD);
        String unknown = uniqueEmail("nobody");

        Response wrongPassword = login(ada.email(), WRONG_PASSWORD);
        Response unknownEmail = login(unknown, PASSWORD);

        for (Response response : List.of(wrongPassword, unknownEmail)) {
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(response.contentType()).startsWith("application/json");
            assertThat(response.asString()).isEqualTo(INVALID_CREDENTIALS);
            assertThat(response.header("authorization")).isNull();
        }
        assertThat(wrongPassword.headers().asList().stream().map(h -> h.getName().toLowerCase()).sorted().toList())
                .isEqualTo(unknownEmail.headers().asList().stream().map(h -> h.getName().toLowerCase()).sorted().toList());
        assertThat(userService.callsFor(ada.email())).as("user-service asked once for the known email").isEqualTo(1);
        assertThat(userService.callsFor(unknown)).as("user-service asked once for the unknown email").isEqualTo(1);
    }

    @Test
    void missingCredentialsAre422CantBeBlank() {
        loginWithBody("{}").then().statusCode(422)
                .body("errors", equalTo(Map.of("creds", List.of("can't be blank"))));
        loginWithBody("").then().statusCode(422)
                .body("errors", equalTo(Map.of("creds", List.of("can't be blank"))));
        loginWithBody("{\"creds\": {}}").then().statusCode(422)
                .body("errors", equalTo(Map.of("email", List.of("can't be blank"),
                        "password", List.of("can't be blank"))));
        loginWithBody("{\"creds\": {\"email\": \" \", \"password\": \"\"}}").then().statusCode(422)
                .body("errors", equalTo(Map.of("email", List.of("can't be blank"),
                        "password", List.of("can't be blank"))));
    }

    @Test
    void overlongEmailIs422() {
        String email = "a".repeat(250) + "@example.com";

        loginWithBody("{\"creds\": {\"email\": \"" + email + "\", \"password\": \"x\"}}").then().statusCode(422)
                .body("errors", equalTo(Map.of("email", List.of("should be at most 255 character(s)"))));
        assertThat(userService.callsFor(email)).isZero();
    }

    @Test
    void wrongTypesAndMalformedJsonAre400() {
        Response wrongType = loginWithBody("{\"creds\": {\"email\": 5, \"password\": \"x\"}}");
        Response notAnObject = loginWithBody("{\"creds\": \"ada@example.com\"}");
        Response malformed = loginWithBody("{\"creds\": {");
        Response trailing = loginWithBody("{\"creds\": {}}garbage");

        for (Response response : List.of(wrongType, notAnObject, malformed, trailing)) {
            assertThat(response.statusCode()).as(response.asString()).isEqualTo(400);
            assertThat(response.jsonPath().getString("message")).isNotBlank();
        }
    }

    @Test
    void loginWithoutJsonIs415() {
        given().contentType(ContentType.TEXT).body("email=ada").when().post("/api/login")
                .then().statusCode(415).body("message", notNullValue());
    }
}
