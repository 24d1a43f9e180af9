package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.logout;
import static io.companychat.auth.support.AuthApi.payload;
import static io.companychat.auth.support.AuthApi.tokenFor;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.companychat.auth.support.TestKeys;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.security.RevokedTokens;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** POST /api/logout: 204, then the token is refused; the revocation is stored and announced. Through real HTTP. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class LogoutTest {

    private static final String PASSWORD = "Emailed-password-7Qx9";
    private static final long USER_ID = 42;
    private static final String EMAIL = "grace@example.com";
    private static final String REFUSED = "{\"message\":\"missing, invalid, expired or revoked token\"}";

    UserServiceStub userService;
    TestKeys keys;

    @Inject
    RevokedTokens revokedTokens;
    @InjectTestDatabase
    TestDatabase database;

    @Test
    void logoutIs204AndTheSameTokenIsRefusedAfterwards() {
        StubUser ada = userService.register(uniqueEmail("logout"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);

        Response first = logout(token);
        Response second = logout(token);

        assertThat(first.statusCode()).as("first logout, body %s", first.asString()).isEqualTo(204);
        assertThat(second.statusCode()).as("logout with the revoked token").isEqualTo(401);
        assertThat(second.asString()).isEqualTo(REFUSED);
        assertThat(second.header("WWW-Authenticate")).isEqualTo("Bearer");
    }

    @Test
    void logoutStoresTheRevocationUntilTheTokenExpires() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("stored"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);

        logout(token).then().statusCode(204);

        try (Connection connection = database.connect();
                PreparedStatement query = connection.prepareStatement(
                        "SELECT user_id, expires_at, revoked_at FROM revoked_tokens WHERE jti = ?")) {
            query.setString(1, payload(token).getString("jti"));
            try (ResultSet row = query.executeQuery()) {
                assertThat(row.next()).as("revocation row").isTrue();
                assertThat(row.getLong("user_id")).isEqualTo(ada.id());
                assertThat(row.getTimestamp("expires_at").toInstant()).isEqualTo(Instant.ofEpochSecond(payload(token).getLong("exp")));
                assertThat(row.getTimestamp("revoked_at").toInstant()).isBetween(Instant.now().minusSeconds(30), Instant.now().plusSeconds(5));
            }
        }
    }

    @Test
    void logoutNotifiesEveryServiceWithTheTokenIdAndExpiry() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("notified"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);
        String expected = payload(token).getString("jti") + " " + payload(token).getLong("exp");

        try (Connection listener = database.connect()) {
            try (Statement listen = listener.createStatement()) {
                listen.execute("LISTEN token_revoked");
            }

            logout(token).then().statusCode(204);

            List<String> payloads = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (!payloads.contains(expected) && System.nanoTime() < deadline) {
                PGNotification[] notifications = listener.unwrap(PGConnection.class).getNotifications(200);
                if (notifications != null) {
                    for (PGNotification notification : notifications) {
                        payloads.add(notification.getParameter());
                    }
                }
            }
            assertThat(payloads).contains(expected);
        }
    }

    /** Another replica's logout reaches this one through the notification alone, within a second. */
    @Test
    void revocationAnnouncedByAnotherReplicaIsRefusedWithinOneSecond() throws SQLException {
        StubUser ada = userService.register(uniqueEmail("replica"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);
        String jti = payload(token).getString("jti");
        try (Connection connection = database.connect();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('token_revoked', ?)")) {
            notify.setString(1, jti + " " + payload(token).getLong("exp"));
            notify.execute();
        }
        Awaitility.await("the notified revocation in this replica's set").atMost(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(20)).until(() -> revokedTokens.isRevoked(jti));

        logout(token).then().statusCode(401);

        try (Connection connection = database.connect();
                PreparedStatement query = connection.prepareStatement("SELECT count(*) FROM revoked_tokens WHERE jti = ?")) {
            query.setString(1, jti);
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                assertThat(rows.getInt(1)).as("refused by the notified set, not by a row").isZero();
            }
        }
    }

    @Test
    void otherTokensOfTheSameUserStayValid() {
        StubUser ada = userService.register(uniqueEmail("phone"), PASSWORD);
        String laptop = tokenFor(ada.email(), PASSWORD);
        String phone = tokenFor(ada.email(), PASSWORD);

        logout(laptop).then().statusCode(204);

        logout(phone).then().statusCode(204);
    }

    @Test
    void concurrentLogoutsWithOneTokenRevokeItOnce() throws Exception {
        StubUser ada = userService.register(uniqueEmail("race"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);
        int racers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                Callable<Integer> attempt = () -> logout(token).statusCode();
                statuses.add(pool.submit(attempt));
            }
            List<Integer> answers = new ArrayList<>();
            for (Future<Integer> status : statuses) {
                answers.add(status.get());
            }

            assertThat(answers).filteredOn(status -> status == 204).hasSize(1);
            assertThat(answers).filteredOn(status -> status == 401).hasSize(racers - 1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void logoutWithoutTokenIs401() {
        given().when().post("/api/logout").then().statusCode(401);
        Response basic = given().header("Authorization", "Basic dXNlcjpwdw==").when().post("/api/logout");
        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(basic.asString()).isEqualTo(REFUSED);
    }

    @Test
    void everyBadTokenIs401() {
        Instant past = Instant.now().minus(Duration.ofHours(2));
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("signed with an unpublished key", keys.signWithUnknownKey(TestKeys.claims(USER_ID, EMAIL)));
        bad.put("alg none", TestKeys.unsigned(USER_ID, EMAIL));
        bad.put("tampered payload", keys.tampered(USER_ID, EMAIL, 7));
        bad.put("expired", keys.signWithCurrentKey(TestKeys.claims(USER_ID, EMAIL).issuedAt(past).expiresAt(past.plusSeconds(300))));
        bad.put("wrong issuer", keys.signWithCurrentKey(TestKeys.claims(USER_ID, EMAIL).issuer("someone-else")));
        bad.put("not a JWT", "garbage.not.jwt");

        bad.forEach((kind, token) -> {
            Response response = logout(token);
            assertThat(response.statusCode()).as(kind).isEqualTo(401);
            assertThat(response.asString()).as(kind).isEqualTo(REFUSED);
        });
    }

    @Test
    void validTokenMadeWithTheCurrentKeyIsAccepted() {
        logout(keys.signWithCurrentKey(TestKeys.claims(USER_ID, EMAIL))).then().statusCode(204);
    }

}
