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
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.companychat.auth.service.DatabaseRevocationSnapshot;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.security.Revocation;
import io.companychat.common.security.RevocationSnapshot;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.quarkus.arc.ClientProxy;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** GET /internal/revoked-tokens for the other services, and the scheduled clean-up of stale rows. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class RevokedTokensTest {

    private static final String PASSWORD = "Emailed-password-7Qx9";
    private static final String SERVICE_TOKEN = "test-only-service-token";
    private static final Duration CLEANUP_WAIT = Duration.ofSeconds(10);

    UserServiceStub userService;

    @InjectTestDatabase
    TestDatabase database;

    @Inject
    RevocationSnapshot snapshot;

    @Test
    void servicesGetEveryRevocationInForce() {
        StubUser ada = userService.register(uniqueEmail("listed"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);
        logout(token).then().statusCode(204);
        String jti = payload(token).getString("jti");

        List<Map<String, String>> listed = given().header("X-Service-Token", SERVICE_TOKEN)
                .when().get("/internal/revoked-tokens")
                .then().statusCode(200).extract().jsonPath().getList("data");

        Map<String, String> entry = listed.stream().filter(revocation -> jti.equals(revocation.get("jti"))).findFirst()
                .orElseThrow(() -> new AssertionError(jti + " not listed in " + listed));
        assertThat(entry).containsOnlyKeys("jti", "expires_at");
        assertThat(Instant.parse(entry.get("expires_at"))).isEqualTo(Instant.ofEpochSecond(payload(token).getLong("exp")));
    }

    @Test
    void revocationsAreOnlyForServicesPresentingTheCredential() {
        given().when().get("/internal/revoked-tokens").then().statusCode(401);
        given().header("X-Service-Token", "guessed").when().get("/internal/revoked-tokens").then().statusCode(401);
    }

    @Test
    void longExpiredRevocationsAreNeitherListedNorKept() throws SQLException {
        String stale = insertRevocation(Instant.now().minus(Duration.ofHours(1)));
        String recent = insertRevocation(Instant.now().minus(Duration.ofMinutes(1)));

        List<String> listed = given().header("X-Service-Token", SERVICE_TOKEN)
                .when().get("/internal/revoked-tokens").then().statusCode(200).extract().jsonPath().getList("data.jti");
        assertThat(listed).doesNotContain(stale).contains(recent);

        awaitGone("SELECT count(*) FROM revoked_tokens WHERE jti = ?", stale);
        assertThat(count("SELECT count(*) FROM revoked_tokens WHERE jti = ?", recent))
                .as("revocation of a token expired less than the clock-skew margin ago").isEqualTo(1);
    }

    @Test
    void failedLoginsOutsideTheWindowAreDeleted() throws SQLException {
        String old = uniqueEmail("old-failure");
        String current = uniqueEmail("current-failure");
        try (Connection connection = database.connect();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO login_failures (email, client_address, failed_at) VALUES (?, '198.18.0.1', now() - ?::interval)")) {
            insert.setString(1, old);
            insert.setString(2, "16 minutes");
            insert.executeUpdate();
            insert.setString(1, current);
            insert.setString(2, "14 minutes");
            insert.executeUpdate();
        }

        awaitGone("SELECT count(*) FROM login_failures WHERE email = ?", old);
        assertThat(count("SELECT count(*) FROM login_failures WHERE email = ?", current)).isEqualTo(1);
    }

    /** auth-service's own listener reloads from its table, not from its own URL. */
    @Test
    void ownListenerReloadsRevocationsFromTheTable() {
        StubUser ada = userService.register(uniqueEmail("snapshot"), PASSWORD);
        String token = tokenFor(ada.email(), PASSWORD);
        logout(token).then().statusCode(204);

        List<Revocation> loaded = snapshot.load().await().atMost(Duration.ofSeconds(5));

        assertThat(ClientProxy.unwrap(snapshot)).isInstanceOf(DatabaseRevocationSnapshot.class);
        assertThat(loaded).extracting(Revocation::jti).contains(payload(token).getString("jti"));
    }

    private String insertRevocation(Instant expiresAt) throws SQLException {
        String jti = UUID.randomUUID().toString();
        try (Connection connection = database.connect();
                PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES (?, 1, ?)")) {
            insert.setString(1, jti);
            insert.setObject(2, expiresAt.atOffset(ZoneOffset.UTC));
            insert.executeUpdate();
        }
        return jti;
    }

    private void awaitGone(String countQuery, String key) {
        Awaitility.await(key + " gone (" + countQuery + ")").atMost(CLEANUP_WAIT).pollInterval(Duration.ofMillis(200))
                .until(() -> count(countQuery, key) == 0);
    }

    private int count(String countQuery, String key) throws SQLException {
        try (Connection connection = database.connect(); PreparedStatement query = connection.prepareStatement(countQuery)) {
            query.setString(1, key);
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }
}
