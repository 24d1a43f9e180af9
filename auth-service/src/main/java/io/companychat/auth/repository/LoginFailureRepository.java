package io.companychat.auth.repository;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Failed logins in {@code login_failures}, counted over a sliding window with the database's clock (so that
 * replicas agree). Plain SQL on the reactive client: every statement here is set-based and leans on
 * PostgreSQL (advisory locks, a conditional insert), there is no object to map.
 */
@ApplicationScoped
public class LoginFailureRepository {

    /** Advisory lock namespaces of auth-service: one email's attempts, one address's attempts. */
    static final int EMAIL_LOCK = 4201;
    static final int ADDRESS_LOCK = 4202;

    /**
     * For the email and for the address: when the limit is reached, the seconds until enough failures have left
     * the window (the limit-th newest failure is the one that has to go). Only if neither is blocked, the attempt
     * is recorded as a failure up front, which is what makes the limits exact under concurrent attempts.
     */
    private static final String RESERVE = """
            WITH blocked AS (
                SELECT (SELECT greatest(1, ceil(extract(epoch FROM f.failed_at + $3::bigint * interval '1 second' - now())))::bigint
                          FROM login_failures f
                         WHERE lower(f.email) = lower($1) AND f.failed_at > now() - $3::bigint * interval '1 second'
                         ORDER BY f.failed_at DESC OFFSET $4::int - 1 LIMIT 1) AS email_retry_after,
                       (SELECT greatest(1, ceil(extract(epoch FROM f.failed_at + $3::bigint * interval '1 second' - now())))::bigint
                          FROM login_failures f
                         WHERE f.client_address = $2 AND f.failed_at > now() - $3::bigint * interval '1 second'
                         ORDER BY f.failed_at DESC OFFSET $5::int - 1 LIMIT 1) AS address_retry_after
            ), attempt AS (
                INSERT INTO login_failures (email, client_address)
                SELECT $1, $2 FROM blocked WHERE email_retry_after IS NULL AND address_retry_after IS NULL
                RETURNING id
            )
            SELECT email_retry_after, address_retry_after, (SELECT id FROM attempt) AS attempt_id FROM blocked
            """;

    private final Pool pool;

    public LoginFailureRepository(Pool pool) {
        this.pool = pool;
    }

    /**
     * Checks both limits and, if neither is reached, records this attempt as a failure, all under locks on the
     * email and the address so that concurrent attempts are counted one after the other. The locks are taken
     * in one order (email, then address), so two attempts can never wait for each other.
     */
    public Uni<Reservation> reserve(String email, String clientAddress, Duration window, int maxPerEmail, int maxPerAddress) {
        return pool.withTransaction(connection -> lock(connection, EMAIL_LOCK, "lower($1)", email)
                .flatMap(ignored -> lock(connection, ADDRESS_LOCK, "$1", clientAddress))
                .flatMap(ignored -> connection.preparedQuery(RESERVE)
                        .execute(Tuple.of(email, clientAddress, window.toSeconds(), maxPerEmail, maxPerAddress)))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new Reservation(row.getLong("attempt_id"), row.getLong("email_retry_after"),
                            row.getLong("address_retry_after"));
                }));
    }

    /** A successful login: that email's failures are forgiven. */
    public Uni<Void> deleteForEmail(String email) {
        return pool.preparedQuery("DELETE FROM login_failures WHERE lower(email) = lower($1)")
                .execute(Tuple.of(email)).replaceWithVoid();
    }

    /** The attempt could not be decided (user-service unavailable): it was no failure. */
    public Uni<Void> delete(long attemptId) {
        return pool.preparedQuery("DELETE FROM login_failures WHERE id = $1").execute(Tuple.of(attemptId)).replaceWithVoid();
    }

    /** Failures that no window counts any more. */
    public Uni<Integer> deleteOlderThan(Duration age) {
        return pool.preparedQuery("DELETE FROM login_failures WHERE failed_at < now() - $1::bigint * interval '1 second'")
                .execute(Tuple.of(age.toSeconds())).map(rows -> rows.rowCount());
    }

    private static Uni<?> lock(SqlConnection connection, int namespace, String keyExpression, String key) {
        return connection.preparedQuery("SELECT 1 FROM pg_advisory_xact_lock(" + namespace + ", hashtext(" + keyExpression + "))")
                .execute(Tuple.of(key));
    }

    /**
     * The outcome of {@link #reserve}: either the id of the recorded attempt, or for each limit that is reached,
     * the seconds until it is not.
     */
    public record Reservation(Long attemptId, Long emailRetryAfter, Long addressRetryAfter) {

        public boolean granted() {
            return attemptId != null;
        }

        public long retryAfterSeconds() {
            return Math.max(emailRetryAfter == null ? 0 : emailRetryAfter, addressRetryAfter == null ? 0 : addressRetryAfter);
        }
    }
}
