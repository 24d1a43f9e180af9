package io.companychat.user;

import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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

/** {@code PUT /api/users/me/password}. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class PasswordChangeTest {

    private static final String PASSWORD_ROUTE = "/api/users/me/password";
    private static final String CURRENT = "current-password-1";
    private static final String NEW = "a-brand-new-password";
    private static final String CURRENT_HASH = BcryptUtil.bcryptHash(CURRENT, 10);
    /** API.md, Limits: wrong current passwords per user per 15 minutes. */
    private static final int MAX_FAILURES = 5;
    private static final Duration WINDOW = Duration.ofMinutes(15);

    @InjectTestDatabase
    TestDatabase database;

    @InjectTestTokens
    TestTokens tokens;

    private Rows rows;
    private long userId;
    private String email;
    private String token;

    @BeforeEach
    void setUp() {
        rows = new Rows(database);
        email = uniqueEmail("changer");
        userId = rows.insertUser("Changer", email, CURRENT_HASH);
        token = tokens.tokenFor(userId, email);
    }

    @Test
    void changeIs204AndOnlyTheNewPasswordVerifiesAfterwards() {
        Response response = change(token, Map.of("current_password", CURRENT, "new_password", NEW));

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(204);
        assertThat(response.asString()).isEmpty();
        String hash = storedHash();
        assertThat(hash).startsWith("$2a$10$");
        assertThat(BcryptUtil.matches(NEW, hash)).as("new password verifies").isTrue();
        assertThat(BcryptUtil.matches(CURRENT, hash)).as("old password verifies").isFalse();
        assertThat(credentialsCheck(NEW)).isEqualTo(200);
        assertThat(credentialsCheck(CURRENT)).isEqualTo(401);
    }

    @Test
    void theTokenUsedForTheChangeStaysValid() {
        change(token, Map.of("current_password", CURRENT, "new_password", NEW)).then().statusCode(204);

        given().auth().oauth2(token).when().get("/api/users/me").then().statusCode(200);
    }

    @Test
    void wrongCurrentPasswordIs401AndChangesNothing() {
        Response response = change(token, Map.of("current_password", "not-the-password", "new_password", NEW));

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.jsonPath().getString("message")).isEqualTo("invalid password");
        assertThat(storedHash()).isEqualTo(CURRENT_HASH);
    }

    @Test
    void afterFiveWrongCurrentPasswordsEveryTryIs429UntilTheWindowEndsEvenTheRightOne() {
        for (int i = 1; i <= MAX_FAILURES; i++) {
            assertThat(change(token, wrongGuess(i)).statusCode()).as("wrong guess %d", i).isEqualTo(401);
        }

        Response sixth = change(token, wrongGuess(MAX_FAILURES + 1));
        Response right = change(token, Map.of("current_password", CURRENT, "new_password", NEW));

        for (Response refused : List.of(sixth, right)) {
            assertThat(refused.statusCode()).as(refused.asString()).isEqualTo(429);
            assertThat(refused.jsonPath().getMap("")).containsOnlyKeys("message");
            long retryAfter = Long.parseLong(refused.header("Retry-After"));
            assertThat(retryAfter).as("Retry-After: until the first failure leaves the 15-minute window")
                    .isBetween(WINDOW.toSeconds() - 120, WINDOW.toSeconds());
        }
        assertThat(storedHash()).as("the right password changed nothing once blocked").isEqualTo(CURRENT_HASH);
    }

    @Test
    void parallelGuessesGetAtMostFiveAnswers() throws Exception {
        int guesses = 4 * MAX_FAILURES;
        ExecutorService threads = Executors.newFixedThreadPool(guesses);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < guesses; i++) {
                Map<String, Object> guess = wrongGuess(i);
                statuses.add(threads.submit(() -> change(token, guess).statusCode()));
            }
            Map<Integer, Long> byStatus = new TreeMap<>();
            for (Future<Integer> status : statuses) {
                byStatus.merge(status.get(60, TimeUnit.SECONDS), 1L, Long::sum);
            }
            assertThat(byStatus).as("statuses of %d parallel wrong guesses", guesses)
                    .containsOnlyKeys(401, 429).containsEntry(401, (long) MAX_FAILURES);
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void theRightPasswordForgivesEarlierWrongOnes() {
        for (int i = 1; i < MAX_FAILURES; i++) {
            change(token, wrongGuess(i)).then().statusCode(401);
        }
        change(token, Map.of("current_password", CURRENT, "new_password", NEW)).then().statusCode(204);

        for (int i = 1; i <= MAX_FAILURES; i++) {
            assertThat(change(token, wrongGuess(i)).statusCode()).as("wrong guess %d after the right one", i).isEqualTo(401);
        }
    }

    @Test
    void eachUserHasItsOwnCount() {
        for (int i = 1; i <= MAX_FAILURES; i++) {
            change(token, wrongGuess(i)).then().statusCode(401);
        }
        String otherEmail = uniqueEmail("other");
        long other = rows.insertUser("Other", otherEmail, CURRENT_HASH);

        change(tokens.tokenFor(other, otherEmail), Map.of("current_password", CURRENT, "new_password", NEW)).then().statusCode(204);
    }

    @Test
    void shortNewPasswordIs422AndChangesNothing() {
        Response response = change(token, Map.of("current_password", CURRENT, "new_password", "elevenchars"));

        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.jsonPath().getMap("errors"))
                .isEqualTo(Map.of("new_password", List.of("should be at least 12 character(s)")));
        assertThat(storedHash()).isEqualTo(CURRENT_HASH);
    }

    @Test
    void newPasswordOfTwelveCharactersIsAccepted() {
        change(token, Map.of("current_password", CURRENT, "new_password", "twelve-chars")).then().statusCode(204);

        assertThat(BcryptUtil.matches("twelve-chars", storedHash())).isTrue();
    }

    @Test
    void overlongNewPasswordIs422() {
        Response response = change(token, Map.of("current_password", CURRENT, "new_password", "p".repeat(256)));

        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.jsonPath().getMap("errors"))
                .isEqualTo(Map.of("new_password", List.of("should be at most 255 character(s)")));
    }

    @Test
    void missingFieldsAre422() {
        Response response = change(token, Map.of());

        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.jsonPath().getMap("errors")).isEqualTo(Map.of(
                "current_password", List.of("can't be blank"), "new_password", List.of("can't be blank")));
    }

    @Test
    void wrongTypeIs400() {
        Response response = given().auth().oauth2(token).contentType(ContentType.JSON)
                .body("{\"current_password\": \"" + CURRENT + "\", \"new_password\": 123456789012}")
                .when().put(PASSWORD_ROUTE);

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(storedHash()).isEqualTo(CURRENT_HASH);
    }

    @Test
    void changeWithoutATokenIs401() {
        given().contentType(ContentType.JSON).body(Map.of("current_password", CURRENT, "new_password", NEW))
                .when().put(PASSWORD_ROUTE)
                .then().statusCode(401);
        assertThat(storedHash()).isEqualTo(CURRENT_HASH);
    }

    private static Map<String, Object> wrongGuess(int i) {
        return Map.of("current_password", "wrong-guess-" + i, "new_password", NEW);
    }

    private Response change(String bearer, Map<String, Object> body) {
        return given().auth().oauth2(bearer).contentType(ContentType.JSON).body(body).when().put(PASSWORD_ROUTE);
    }

    private int credentialsCheck(String password) {
        return given().header("X-Service-Token", TestTokensResource.SERVICE_TOKEN).contentType(ContentType.JSON)
                .body(Map.of("email", email, "password", password))
                .when().post("/internal/credentials").statusCode();
    }

    private String storedHash() {
        return (String) rows.one("SELECT password_hash FROM users WHERE id = ?", userId).get("password_hash");
    }
}
