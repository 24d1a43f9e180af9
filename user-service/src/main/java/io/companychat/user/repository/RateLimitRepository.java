package io.companychat.user.repository;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Sliding-window counters in {@code rate_limit_events}, shared by every replica: one row per counted event, the
 * window measured with the database's clock. Plain SQL on the reactive pool, as the outbox's claims: each call is
 * one short transaction and holds no Hibernate session.
 */
@ApplicationScoped
public class RateLimitRepository {

    /**
     * Serialises the reservations of one bucket across replicas for the rest of the transaction, so that two
     * concurrent requests cannot both see a free place and both take it.
     */
    static final String LOCK_BUCKET = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

    /**
     * $1 bucket, $2 window in seconds, $3 limit. If the bucket holds $3 events within the window, nothing is
     * inserted and {@code retry_after} is the seconds until the $3-th newest leaves the window (then one more
     * event fits); otherwise one event is inserted and its {@code id} returned.
     */
    static final String RESERVE = """
            WITH blocking AS (
                SELECT greatest(1, ceil(extract(epoch FROM happened_at + $2::bigint * interval '1 second' - now())))::bigint AS retry_after
                  FROM rate_limit_events
                 WHERE bucket = $1 AND happened_at > now() - $2::bigint * interval '1 second'
                 ORDER BY happened_at DESC OFFSET $3::int - 1 LIMIT 1
            ), reserved AS (
                INSERT INTO rate_limit_events (bucket) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM blocking) RETURNING id
            )
            SELECT (SELECT retry_after FROM blocking) AS retry_after, (SELECT id FROM reserved) AS id
            """;

    private final Pool pool;

    public RateLimitRepository(Pool pool) {
        this.pool = pool;
    }

    /** Counts one event in the bucket if fewer than {@code limit} are within the window; else says when one more fits. */
    public Uni<Reservation> reserve(String bucket, Duration window, int limit) {
        return pool.withTransaction(connection -> connection.preparedQuery(LOCK_BUCKET).execute(Tuple.of(bucket))
                .chain(() -> connection.preparedQuery(RESERVE).execute(Tuple.of(bucket, window.toSeconds(), limit)))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new Reservation(row.getLong("id"), row.getLong("retry_after"));
                }));
    }

    /** Takes back one counted event (the attempt it stood for did not happen after all). */
    public Uni<Void> release(long id) {
        return pool.preparedQuery("DELETE FROM rate_limit_events WHERE id = $1").execute(Tuple.of(id)).replaceWithVoid();
    }

    /** Forgets every event of the bucket. */
    public Uni<Void> clear(String bucket) {
        return pool.preparedQuery("DELETE FROM rate_limit_events WHERE bucket = $1").execute(Tuple.of(bucket)).replaceWithVoid();
    }

    /** Events that no window counts any more. */
    public Uni<Integer> deleteOlderThan(Duration age) {
        return pool.preparedQuery("DELETE FROM rate_limit_events WHERE happened_at < now() - $1::bigint * interval '1 second'")
                .execute(Tuple.of(age.toSeconds())).map(rows -> rows.rowCount());
    }

    /** Either the id of the event now counted, or the seconds until the bucket has room again. */
    public record Reservation(Long id, Long retryAfterSeconds) {

        public boolean refused() {
            return id == null;
        }
    }
}
