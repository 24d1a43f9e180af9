package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.login;
import static io.companychat.auth.support.AuthApi.randomClientAddress;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.ManagementMetrics;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Brute-force limits: 5 failures per email, 50 per client address, within 15 minutes, shared through PostgreSQL. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class LoginLimitsTest {

    private static final String PASSWORD = "Emailed-password-7Qx9";
    private static final String WRONG_PASSWORD = "guess-number-n";
    private static final int EMAIL_LIMIT = 5;
    private static final int ADDRESS_LIMIT = 50;
    private static final long WINDOW_SECONDS = 15 * 60;
    private static final String TOO_MANY = "{\"message\":\"too many failed logins, try again later\"}";

    UserServiceStub userService;

    @InjectTestDatabase
    TestDatabase database;

    @Test
    void sixthFailedLoginForOneEmailIs429WithRetryAfter() {
        StubUser ada = userService.register(uniqueEmail("sixth"), PASSWORD);
        double failuresBefore = ManagementMetrics.value("auth_logins_total", "outcome=\"failure\"");
        double lockoutsBefore = ManagementMetrics.value("auth_logins_total", "outcome=\"lockout\"");
        failLogins(ada.email(), EMAIL_LIMIT);

        Response sixth = login(ada.email(), WRONG_PASSWORD);
        // the outcomes on the management port (auth_logins_total{outcome=...})
        assertThat(ManagementMetrics.value("auth_logins_total", "outcome=\"failure\"") - failuresBefore)
                .as("failed logins counted").isEqualTo(EMAIL_LIMIT);
        assertThat(ManagementMetrics.value("auth_logins_total", "outcome=\"lockout\"") - lockoutsBefore)
                .as("lockouts counted").isEqualTo(1);

        assertThat(sixth.statusCode()).as("sixth try, body %s", sixth.asString()).isEqualTo(429);
        assertThat(sixth.asString()).isEqualTo(TOO_MANY);
        assertThat(Long.parseLong(sixth.header("Retry-After"))).isBetween(WINDOW_SECONDS - 60, WINDOW_SECONDS);
    }

    @Test
    void rightPasswordIsRefusedOnceTheEmailIsBlockedWithoutAskingUserService() {
        StubUser ada = userService.register(uniqueEmail("blocked"), PASSWORD);
        failLogins(ada.email(), EMAIL_LIMIT);

        Response right = login(ada.email(), PASSWORD);

        assertThat(right.statusCode()).isEqualTo(429);
        assertThat(right.header("authorization")).isNull();
        assertThat(userService.callsFor(ada.email())).as("credential checks reaching user-service").isEqualTo(EMAIL_LIMIT);
    }

    @Test
    void emailLimitIgnoresCase() {
        String email = uniqueEmail("mixed");
        StubUser ada = userService.register(email, PASSWORD);
        String[] spellings = { email.toUpperCase(Locale.ROOT), email, "M" + email.substring(1), email.toUpperCase(Locale.ROOT), email };
        for (String spelling : spellings) {
            login(spelling, WRONG_PASSWORD).then().statusCode(401);
        }

        login(ada.email().toLowerCase(Locale.ROOT), PASSWORD).then().statusCode(429);
    }

    @Test
    void refusedAttemptsDoNotProlongTheBlock() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("prolong"), PASSWORD);
        failLogins(ada.email(), EMAIL_LIMIT);

        for (int i = 0; i < 3; i++) {
            login(ada.email(), WRONG_PASSWORD).then().statusCode(429);
        }

        assertThat(failuresRecordedFor(ada.email())).isEqualTo(EMAIL_LIMIT);
    }

    @Test
    void retryAfterCountsDownToWhenTheOldestFailureLeavesTheWindow() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("countdown"), PASSWORD);
        failLogins(ada.email(), EMAIL_LIMIT);
        ageFailures(ada.email(), "14 minutes");

        Response refused = login(ada.email(), PASSWORD);

        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(50L, 60L);
    }

    @Test
    void rightPasswordWorksAgainOnceTheWindowHasPassed() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("window"), PASSWORD);
        failLogins(ada.email(), EMAIL_LIMIT);
        login(ada.email(), PASSWORD).then().statusCode(429);

        ageFailures(ada.email(), "15 minutes 1 second");

        login(ada.email(), PASSWORD).then().statusCode(200);
    }

    @Test
    void successfulLoginClearsThatEmailsFailures() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("forgiven"), PASSWORD);
        failLogins(ada.email(), EMAIL_LIMIT - 1);

        login(ada.email(), PASSWORD).then().statusCode(200);

        assertThat(failuresRecordedFor(ada.email())).isZero();
        failLogins(ada.email(), EMAIL_LIMIT);
        login(ada.email(), WRONG_PASSWORD).then().statusCode(429);
    }

    @Test
    void fiftyFailuresFromOneAddressBlockThatAddressOnly() {
        String attacker = randomClientAddress();
        StubUser ada = userService.register(uniqueEmail("sprayed"), PASSWORD);
        for (int i = 0; i < ADDRESS_LIMIT; i++) {
            login(uniqueEmail("spray" + i), WRONG_PASSWORD, attacker).then().statusCode(401);
        }

        Response fromAttacker = login(ada.email(), PASSWORD, attacker);
        Response fromElsewhere = login(ada.email(), PASSWORD, randomClientAddress());

        assertThat(fromAttacker.statusCode()).as("right password from the blocked address").isEqualTo(429);
        assertThat(Long.parseLong(fromAttacker.header("Retry-After"))).isBetween(WINDOW_SECONDS - 120, WINDOW_SECONDS);
        assertThat(fromElsewhere.statusCode()).as("right password from another address").isEqualTo(200);
    }

    @Test
    void parallelLoginsWithTheRightPasswordAreNotMistakenForGuesses() throws Exception {
        StubUser ada = userService.register(uniqueEmail("devices"), PASSWORD);

        List<Integer> answers = inParallel(12, () -> login(ada.email(), PASSWORD).statusCode());

        assertThat(answers).containsOnly(200);
    }

    /** Attempts for one email take turns, so parallel guesses are counted one by one. */
    @Test
    void parallelGuessesGetExactlyFiveAnswers() throws Exception {
        StubUser ada = userService.register(uniqueEmail("parallel"), PASSWORD);

        List<Integer> answers = inParallel(20, () -> login(ada.email(), WRONG_PASSWORD).statusCode());

        assertThat(answers).filteredOn(status -> status == 401).hasSize(EMAIL_LIMIT);
        assertThat(answers).filteredOn(status -> status == 429).hasSize(20 - EMAIL_LIMIT);
        assertThat(userService.callsFor(ada.email())).isEqualTo(EMAIL_LIMIT);
        login(ada.email(), PASSWORD).then().statusCode(429);
    }

    /** The limit is checked again when the password turns out right: failures counted meanwhile still block it. */
    @Test
    void rightPasswordIsRefusedIfTheLimitWasReachedWhileItWasChecked() throws Exception {
        StubUser ada = userService.register(uniqueEmail("meanwhile"), PASSWORD);
        userService.delay(ada.email(), Duration.ofMillis(800));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Response> slowLogin = pool.submit(() -> login(ada.email(), PASSWORD));
            awaitCalls(ada.email(), 1);
            recordFailures(ada.email(), EMAIL_LIMIT);

            Response response = slowLogin.get();

            assertThat(response.statusCode()).as("body %s", response.asString()).isEqualTo(429);
            assertThat(response.header("authorization")).isNull();
            assertThat(failuresRecordedFor(ada.email())).as("failures kept").isEqualTo(EMAIL_LIMIT);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void failLogins(String email, int times) {
        for (int i = 0; i < times; i++) {
            Response response = login(email, WRONG_PASSWORD);
            assertThat(response.statusCode()).as("failed login %d of %s: %s", i + 1, email, response.asString()).isEqualTo(401);
        }
    }

    private static List<Integer> inParallel(int clients, Callable<Integer> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                futures.add(pool.submit(call));
            }
            List<Integer> answers = new ArrayList<>();
            for (Future<Integer> future : futures) {
                answers.add(future.get());
            }
            return answers;
        } finally {
            pool.shutdownNow();
        }
    }

    private void awaitCalls(String email, int calls) {
        Awaitility.await("user-service asked about " + email).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                .until(() -> userService.callsFor(email) >= calls);
    }

    /** Failures recorded by other attempts (another replica, a parallel request). */
    private void recordFailures(String email, int count) throws SQLException {
        try (Connection connection = database.connect();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO login_failures (email, client_address) VALUES (?, '198.18.255.254')")) {
            for (int i = 0; i < count; i++) {
                insert.setString(1, email);
                insert.executeUpdate();
            }
        }
    }

    private int failuresRecordedFor(String email) throws SQLException {
        try (Connection connection = database.connect();
                PreparedStatement query = connection.prepareStatement("SELECT count(*) FROM login_failures WHERE lower(email) = lower(?)")) {
            query.setString(1, email);
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    /** Moves this email's failures into the past, as if that much time had gone by. */
    private void ageFailures(String email, String interval) throws SQLException {
        try (Connection connection = database.connect();
                PreparedStatement update = connection.prepareStatement(
                        "UPDATE login_failures SET failed_at = failed_at - ?::interval WHERE lower(email) = lower(?)")) {
            update.setString(1, interval);
            update.setString(2, email);
            assertThat(update.executeUpdate()).as("failures moved back").isPositive();
        }
    }
}
