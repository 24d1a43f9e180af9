package io.companychat.user;

import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.GreenMailResource;
import io.companychat.user.support.Rows;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/** {@code POST /internal/credentials} and {@code GET /internal/users/{id}}: for the other services only. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class InternalCredentialsTest {

    private static final String CREDENTIALS = "/internal/credentials";
    private static final String PASSWORD = "correct-horse-battery";
    private static final String HASH = BcryptUtil.bcryptHash(PASSWORD, 10);
    private static final String REFUSED = "invalid email or password";
    private static final int TIMING_ROUNDS = 9;

    @InjectTestDatabase
    TestDatabase database;

    @InjectTestTokens
    TestTokens tokens;

    private Rows rows;
    private String email;
    private long userId;

    @BeforeEach
    void setUp() {
        rows = new Rows(database);
        email = uniqueEmail("Login");
        userId = rows.insertUser("Login", email, HASH);
    }

    @Test
    void matchingCredentialsAre200WithTheUserJson() {
        Response response = check(email, PASSWORD);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        assertThat(response.jsonPath().getMap("")).containsOnlyKeys("id", "name", "subname", "email", "job")
                .containsEntry("email", email).containsEntry("name", "Login");
        assertThat(response.jsonPath().getLong("id")).isEqualTo(userId);
    }

    @Test
    void emailMatchesWhateverItsCase() {
        assertThat(check(email.toUpperCase(), PASSWORD).statusCode()).isEqualTo(200);
        assertThat(check(email.toLowerCase(), PASSWORD).statusCode()).isEqualTo(200);
    }

    @Test
    void wrongPasswordAndUnknownEmailGetTheSame401() {
        Response wrongPassword = check(email, "not-the-password");
        Response unknownEmail = check(uniqueEmail("nobody"), PASSWORD);

        assertThat(wrongPassword.statusCode()).isEqualTo(401);
        assertThat(unknownEmail.statusCode()).isEqualTo(401);
        assertThat(wrongPassword.jsonPath().getString("message")).isEqualTo(REFUSED);
        assertThat(unknownEmail.asString()).isEqualTo(wrongPassword.asString());
        assertThat(check(email, PASSWORD.toUpperCase()).statusCode()).as("passwords are case-sensitive").isEqualTo(401);
        assertThat(check(email, "").statusCode()).isEqualTo(401);
    }

    @Test
    void unknownEmailTakesAsLongAsAWrongPassword() {
        List<Long> wrongPassword = new ArrayList<>();
        List<Long> unknownEmail = new ArrayList<>();
        check(email, "warm-up").then().statusCode(401);
        for (int i = 0; i < TIMING_ROUNDS; i++) {
            wrongPassword.add(timed(email, "not-the-password"));
            unknownEmail.add(timed(uniqueEmail("nobody"), "not-the-password"));
        }

        double ratio = (double) median(unknownEmail) / median(wrongPassword);

        assertThat(ratio).as("median time unknown email / wrong password (ms: %s vs %s)", unknownEmail, wrongPassword)
                .isBetween(0.5, 2.0);
    }

    @Test
    void withoutTheServiceCredentialIs401() {
        given().contentType(ContentType.JSON).body(Map.of("email", email, "password", PASSWORD))
                .when().post(CREDENTIALS)
                .then().statusCode(401);
        given().header("X-Service-Token", "guess").contentType(ContentType.JSON).body(Map.of("email", email, "password", PASSWORD))
                .when().post(CREDENTIALS)
                .then().statusCode(401);
    }

    @Test
    void aTokenListedAsAlsoAcceptedOpensInternalRoutesDuringARotation() {
        // %test.internal.accepted-service-tokens: the next token, accepted before any service sends it
        given().header("X-Service-Token", "test-only-next-service-token").when().get("/internal/users/" + userId)
                .then().statusCode(200);
        given().header("X-Service-Token", "test-only-next-service-token-2").when().get("/internal/users/" + userId)
                .then().statusCode(401);
        given().header("X-Service-Token", "").when().get("/internal/users/" + userId).then().statusCode(401);
    }

    @Test
    void aUserTokenIsNoServiceCredential() {
        Response response = given().auth().oauth2(tokens.tokenFor(userId, email)).contentType(ContentType.JSON)
                .body(Map.of("email", email, "password", PASSWORD))
                .when().post(CREDENTIALS);

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.asString()).doesNotContain(email);
    }

    @ParameterizedTest
    @ValueSource(strings = { "{\"email\": ", "{\"email\": 5, \"password\": \"x\"}", "{\"email\": \"a@b.co\", \"password\": [\"x\"]}" })
    void malformedBodyIs400(String body) {
        service().contentType(ContentType.JSON).body(body).when().post(CREDENTIALS).then().statusCode(400);
    }

    @Test
    void missingFieldsAre422() {
        Response response = service().contentType(ContentType.JSON).body("{}").when().post(CREDENTIALS);

        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.jsonPath().getMap("errors"))
                .isEqualTo(Map.of("email", List.of("can't be blank"), "password", List.of("can't be blank")));
    }

    @Test
    void internalUserByIdIsTheUserOr404() {
        Response found = service().when().get("/internal/users/" + userId);
        assertThat(found.statusCode()).isEqualTo(200);
        assertThat(found.jsonPath().getMap("")).containsOnlyKeys("id", "name", "subname", "email", "job")
                .containsEntry("email", email);

        Response missing = service().when().get("/internal/users/999999999");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.jsonPath().getString("message")).isEqualTo("not found");
        service().when().get("/internal/users/abc").then().statusCode(404);
    }

    @Test
    void internalUserByIdNeedsTheServiceCredential() {
        given().when().get("/internal/users/" + userId).then().statusCode(401);
        given().auth().oauth2(tokens.tokenFor(userId, email)).when().get("/internal/users/" + userId).then().statusCode(401);
    }

    private static RequestSpecification service() {
        return given().header("X-Service-Token", TestTokensResource.SERVICE_TOKEN);
    }

    private static Response check(String email, String password) {
        return service().contentType(ContentType.JSON).body(Map.of("email", email, "password", password))
                .when().post(CREDENTIALS);
    }

    private static long timed(String email, String password) {
        long start = System.nanoTime();
        check(email, password).then().statusCode(401);
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
