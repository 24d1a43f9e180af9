package io.companychat.auth.repository;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.common.security.Revocation;
import io.companychat.common.security.RevokedTokens;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Revoked token ids in {@code revoked_tokens}, and the {@value #CHANNEL} notification that tells every
 * service's listener about a new one the moment it is committed.
 */
@ApplicationScoped
public class RevokedTokenRepository {

    public static final String CHANNEL = RevokedTokens.CHANNEL;

    private final Pool pool;

    public RevokedTokenRepository(Pool pool) {
        this.pool = pool;
    }

    /**
     * Revokes a token until its expiry and, in the same transaction, notifies {@value #CHANNEL} with
     * {@code "<jti> <exp epoch seconds>"} (delivered on commit). False if it was revoked already.
     */
    public Uni<Boolean> revoke(String jti, long userId, long expiresAtEpochSeconds) {
        return pool.withTransaction(connection -> connection.preparedQuery("""
                INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, to_timestamp($3))
                ON CONFLICT (jti) DO NOTHING
                """).execute(Tuple.of(jti, userId, expiresAtEpochSeconds))
                .flatMap(inserted -> inserted.rowCount() == 0
                        ? Uni.createFrom().item(false)
                        : connection.preparedQuery("SELECT 1 FROM pg_notify($1, $2)")
                                .execute(Tuple.of(CHANNEL, jti + " " + expiresAtEpochSeconds))
                                .replaceWith(true)));
    }

    /** Every revocation still kept: unexpired ones, and those expired less than {@code retention} ago. */
    public Uni<List<Revocation>> listKept(Duration retention) {
        return pool.preparedQuery("""
                SELECT jti, expires_at FROM revoked_tokens
                 WHERE expires_at > now() - $1::bigint * interval '1 second'
                 ORDER BY expires_at, jti
                """).execute(Tuple.of(retention.toSeconds()))
                .map(rows -> {
                    List<Revocation> revocations = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        revocations.add(new Revocation(row.getString("jti"), row.getOffsetDateTime("expires_at").toInstant()));
                    }
                    return revocations;
                });
    }

    /** Revocations of tokens that expired more than {@code retention} ago: no verifier accepts those tokens any more. */
    public Uni<Integer> deleteExpiredBefore(Duration retention) {
        return pool.preparedQuery("DELETE FROM revoked_tokens WHERE expires_at < now() - $1::bigint * interval '1 second'")
                .execute(Tuple.of(retention.toSeconds())).map(rows -> rows.rowCount());
    }
}
