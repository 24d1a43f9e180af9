package io.companychat.auth.repository;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Failed logins in {@code login_failures}, counted over a sliding window with the database's clock (so that
 * replicas agree). Plain SQL on the reactive client: every statement here is set-based and leans on PostgreSQL,
 * there is no object to map.
 */
@ApplicationScoped
public class LoginFailureRepository {

    /**
     * When the limit is reached: the seconds until enough failures have left the window that one more attempt
     * would pass, i.e. until the limit-th newest failure is {@code window} old. No row: not blocked.
     * Filled in with the key's condition and the limit's parameter; $2 is always the window in seconds.
     */
    private static final String RETRY_AFTER = """
            SELECT greatest(1, ceil(extract(epoch FROM f.failed_at + $2::bigint * interval '1 second' - now())))::bigint
              FROM login_failures f
             WHERE %s AND f.failed_at > now() - $2::bigint * interval '1 second'
             ORDER BY f.failed_at DESC OFFSET %s::int - 1 LIMIT 1
            """;
    private static final String EMAIL_RETRY_AFTER = RETRY_AFTER.formatted("lower(f.email) = lower($1)", "$3");

    /** $1 email, $2 window, $3 limit per email, $4 client address, $5 limit per address. */
    private static final String BLOCKED = "SELECT (%s) AS email_retry_after, (%s) AS address_retry_after"
            .formatted(EMAIL_RETRY_AFTER, RETRY_AFTER.formatted("f.client_address = $4", "$5"));

    /** One statement, one snapshot: the email's failures are deleted only if they do not block it. $1-$3 as above. */
    private static final String FORGIVE_UNLESS_BLOCKED = """
            WITH blocked AS (%s),
                 forgiven AS (DELETE FROM login_failures WHERE lower(email) = lower($1) AND NOT EXISTS (SELECT 1 FROM blocked))
            SELECT (SELECT * FROM blocked) AS email_retry_after
            """.formatted(EMAIL_RETRY_AFTER);

    private final Pool pool;

    public LoginFailureRepository(Pool pool) {
        this.pool = pool;
    }

    /** For the email and for the address: the seconds until it is not blocked any more, or null if it is not. */
    public Uni<Block> blocked(String email, String clientAddress, Duration window, int maxPerEmail, int maxPerAddress) {
        return pool.preparedQuery(BLOCKED)
                .execute(Tuple.of(email, window.toSeconds(), maxPerEmail, clientAddress, maxPerAddress))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new Block(row.getLong("email_retry_after"), row.getLong("address_retry_after"));
                });
    }

    public Uni<Void> record(String email, String clientAddress) {
        return pool.preparedQuery("INSERT INTO login_failures (email, client_address) VALUES ($1, $2)")
                .execute(Tuple.of(email, clientAddress)).replaceWithVoid();
    }

    /**
     * A right password: that email's failures are forgiven, unless (concurrent) failures have reached the limit
     * meanwhile; then nothing is deleted and the seconds until the email is free again are returned.
     */
    public Uni<Long> forgiveUnlessBlocked(String email, Duration window, int maxPerEmail) {
        return pool.preparedQuery(FORGIVE_UNLESS_BLOCKED).execute(Tuple.of(email, window.toSeconds(), maxPerEmail))
                .map(rows -> rows.iterator().next().getLong("email_retry_after"));
    }

    /** Failures that no window counts any more. */
    public Uni<Integer> deleteOlderThan(Duration age) {
        return pool.preparedQuery("DELETE FROM login_failures WHERE failed_at < now() - $1::bigint * interval '1 second'")
                .execute(Tuple.of(age.toSeconds())).map(rows -> rows.rowCount());
    }

    /** Seconds until the email, and the address, may try again; null where no limit is reached. */
    public record Block(Long emailRetryAfter, Long addressRetryAfter) {

        public boolean blocked() {
            return emailRetryAfter != null || addressRetryAfter != null;
        }

        public long retryAfterSeconds() {
            return Math.max(emailRetryAfter == null ? 0 : emailRetryAfter, addressRetryAfter == null ? 0 : addressRetryAfter);
        }
    }
}
