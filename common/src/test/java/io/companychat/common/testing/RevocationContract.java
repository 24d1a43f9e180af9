package io.companychat.common.testing;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.companychat.common.notify.PgNotifications;
import io.restassured.response.Response;

/**
 * What every service promises about logged-out tokens: refused (401) within one second of the
 * logout's notification, and refused after the service was cut off from the database while the
 * logout happened. Revocation fails closed: a token is refused as long as it verifies (its expiry
 * plus the accepted clock skew), a LISTEN connection that died silently is noticed and replaced, and
 * the service is not ready while it may have missed a logout (until the list is reloaded). A
 * service's test extends this with {@code @QuarkusTest} and both {@code PostgresTestResource} and
 * {@code TestTokensResource}, naming one protected GET route.
 */
public abstract class RevocationContract {

    private static final Duration PROMISED = Duration.ofSeconds(1);
    private static final Duration AFTER_RECONNECT = Duration.ofSeconds(20);
    /** Inside smallrye-jwt's default clock skew (mp.jwt.verify.clock.skew, 60 s): such a token still verifies. */
    private static final Duration EXPIRED_WITHIN_SKEW = Duration.ofSeconds(10);
    /** How long a service whose revoked list cannot be loaded must be seen staying not ready. */
    private static final Duration STAYS_NOT_READY = Duration.ofSeconds(3);
    private static final String REVOKED_TOKENS_CHECK = "revoked tokens";
    private static final String LISTEN_BACKENDS = "SELECT client_port FROM pg_stat_activity"
            + " WHERE datname = current_database() AND (application_name LIKE ? OR query LIKE 'LISTEN %') AND backend_start > ?";

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
        tokens.revocationListAvailable(true);
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

    @Test
    void tokenRevokedAfterItsExpiryButWithinTheClockSkewIsRefused() throws SQLException {
        awaitReadiness(200);
        Instant expiry = Instant.now().minus(EXPIRED_WITHIN_SKEW);
        String token = tokens.sign(tokens.claims(userId(), email()).issuedAt(expiry.minus(TestTokens.LIFETIME)).expiresAt(expiry));
        assertThat(statusWith(token)).as("status of a token %d s past its exp (inside the clock skew)",
                EXPIRED_WITHIN_SKEW.toSeconds()).isEqualTo(200);

        notifyRevocation(token);

        awaitRefusal(token, PROMISED.multipliedBy(3));
    }

    @Test
    void logoutMissedByASilentlyDeadListenConnectionIsRefusedOnceTheHeartbeatHasReplacedIt() throws SQLException {
        awaitReadiness(200); // the list is loaded and no reload is pending: only a new connection's reload can find the logout
        String token = tokens.tokenFor(userId(), email());
        assertThat(statusWith(token)).isEqualTo(200);
        int listenPort = awaitListenBackendSince(Instant.EPOCH);

        assertThat(databaseRelay.silence(listenPort)).as("the LISTEN connection (client port %d) is relayed", listenPort).isTrue();
        tokens.revokeSilently(token);
        notifyRevocation(token);

        awaitRefusal(token, AFTER_RECONNECT);
    }

    @Test
    void notReadyFromTheLossOfTheListenConnectionUntilTheRevokedListIsReloaded() {
        awaitReadiness(200);
        tokens.revocationListAvailable(false);

        databaseRelay.cut();
        awaitReadiness(503);
        Instant restored = Instant.now();
        databaseRelay.restore();
        awaitListenBackendSince(restored);
        awaitDatabaseCheckUp();
        long until = System.nanoTime() + STAYS_NOT_READY.toNanos();
        while (System.nanoTime() < until) {
            assertThat(readiness().statusCode())
                    .as("readiness while the LISTEN connection is back but the revoked list cannot be loaded").isEqualTo(503);
            ServiceProcess.sleep(100);
        }

        tokens.revocationListAvailable(true);
        awaitReadiness(200);
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

    /** The client port of this service's LISTEN connection, once one has started after {@code since}. */
    private int awaitListenBackendSince(Instant since) {
        long deadline = System.nanoTime() + AFTER_RECONNECT.toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection connection = database.connect(); PreparedStatement query = connection.prepareStatement(LISTEN_BACKENDS)) {
                query.setString(1, "%" + PgNotifications.APPLICATION_NAME_SUFFIX);
                query.setTimestamp(2, Timestamp.from(since));
                try (ResultSet rows = query.executeQuery()) {
                    if (rows.next()) {
                        return rows.getInt(1);
                    }
                }
            } catch (SQLException e) {
                throw new AssertionError("could not read pg_stat_activity", e);
            }
            ServiceProcess.sleep(100);
        }
        throw new AssertionError("no LISTEN connection started since " + since + " within " + AFTER_RECONNECT.toSeconds() + " s");
    }

    private void awaitReadiness(int status) {
        long deadline = System.nanoTime() + AFTER_RECONNECT.toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = readiness().statusCode();
            if (last == status) {
                return;
            }
            ServiceProcess.sleep(100);
        }
        throw new AssertionError("readiness stayed " + last + ", expected " + status + " within " + AFTER_RECONNECT.toSeconds() + " s");
    }

    /** The database's readiness checks are UP again: only the revoked-token check may still be DOWN. */
    private void awaitDatabaseCheckUp() {
        long deadline = System.nanoTime() + AFTER_RECONNECT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Response response = readiness();
            last = response.asString();
            List<String> down = response.jsonPath().getList("checks.findAll { it.status == 'DOWN' }.name");
            if (down != null && down.stream().allMatch(REVOKED_TOKENS_CHECK::equals)) {
                return;
            }
            ServiceProcess.sleep(100);
        }
        throw new AssertionError("the database readiness check stayed DOWN: " + last);
    }

    private static Response readiness() {
        return given().when().get("/q/health/ready");
    }

    private int statusWith(String token) {
        return given().auth().oauth2(token).when().get(protectedPath()).statusCode();
    }

}
