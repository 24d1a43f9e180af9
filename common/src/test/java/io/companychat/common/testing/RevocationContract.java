package io.companychat.common.testing;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every service promises about logged-out tokens: refused (401) within one second of the
 * logout's notification, and refused after the service was cut off from the database while the
 * logout happened. A service's test extends this with {@code @QuarkusTest} and both
 * {@code PostgresTestResource} and {@code TestTokensResource}, naming one protected GET route.
 */
public abstract class RevocationContract {

    private static final Duration PROMISED = Duration.ofSeconds(1);
    private static final Duration AFTER_RECONNECT = Duration.ofSeconds(20);

    @InjectTestDatabase
    protected TestDatabase database;

    @InjectTestDatabase
    protected TcpRelay databaseRelay;

    @InjectTestTokens
    protected TestTokens tokens;

    /** A GET route of this service that any valid token may call. */
    protected abstract String protectedPath();

    /** A user id and email the route accepts (a row the service can find, where it looks one up). */
    protected abstract long userId();

    protected abstract String email();

    @AfterEach
    void bringDatabaseBack() {
        databaseRelay.restore();
    }

    @Test
    void tokenRevokedByLogoutIsRefusedWithinOneSecond() throws SQLException {
        String token = tokens.tokenFor(userId(), email());
        assertThat(statusWith(token)).as("status before logout").isEqualTo(200);

        notifyRevocation(token);
        Duration refusedAfter = awaitRefusal(token, PROMISED.multipliedBy(3));
        assertThat(refusedAfter).as("time from the logout's NOTIFY to the first 401").isLessThanOrEqualTo(PROMISED);

        String other = tokens.tokenFor(userId(), email());
        assertThat(statusWith(other)).as("another token of the same user").isEqualTo(200);
    }

    @Test
    void tokenRevokedWhileCutOffFromTheDatabaseIsRefusedAfterReconnecting() {
        String token = tokens.tokenFor(userId(), email());
        assertThat(statusWith(token)).isEqualTo(200);

        databaseRelay.cut();
        tokens.revokeSilently(token);
        // The service has seen the database go (its connections, the LISTEN one among them, were dropped).
        Awaitility.await("readiness down while the database is away").atMost(AFTER_RECONNECT).pollInterval(Duration.ofMillis(100))
                .until(() -> given().when().get("/q/health/ready").statusCode() == 503);
        databaseRelay.restore();

        awaitRefusal(token, AFTER_RECONNECT);
    }

    /** What auth-service does in the logout transaction, seen from this service: the NOTIFY. */
    private void notifyRevocation(String token) throws SQLException {
        try (Connection connection = database.connect();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('token_revoked', ?)")) {
            notify.setString(1, TestTokens.jtiOf(token) + " " + TestTokens.expiryOf(token));
            notify.execute();
        }
    }

    private Duration awaitRefusal(String token, Duration limit) {
        long start = System.nanoTime();
        Awaitility.await("the revoked token refused").atMost(limit).pollInterval(Duration.ofMillis(20))
                .until(() -> statusWith(token) == 401);
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private int statusWith(String token) {
        return given().auth().oauth2(token).when().get(protectedPath()).statusCode();
    }

}
