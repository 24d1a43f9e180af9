package io.companychat.user.repository;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.user.OutboxMail;
import io.quarkus.hibernate.reactive.panache.PanacheRepository;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * The welcome-mail outbox. New mails are persisted through Hibernate Reactive, inside the
 * registration's transaction; the sender's claims and updates are single SQL statements on the
 * reactive pool, each atomic on its own, so no transaction stays open while a mail is sent
 * (and the sender needs no Hibernate session).
 */
@ApplicationScoped
public class MailOutboxRepository implements PanacheRepository<OutboxMail> {

    /**
     * Leases up to $1 due mails for $2 seconds in one statement: rows another replica is claiming
     * right now are skipped (SKIP LOCKED), and a leased row is not due again until the lease ends,
     * so two replicas never hold the same mail. If this replica dies before marking the mail, the
     * lease runs out and another claim retries it.
     */
    static final String CLAIM = """
            WITH due AS (
                SELECT id FROM mail_outbox
                WHERE status = 'PENDING' AND next_attempt_at <= now()
                ORDER BY next_attempt_at, id
                LIMIT $1
                FOR UPDATE SKIP LOCKED
            )
            UPDATE mail_outbox m SET next_attempt_at = now() + make_interval(secs => $2)
            FROM due WHERE m.id = due.id
            RETURNING m.id, m.recipient, m.subject, m.text_body, m.html_body, m.attempts,
                (EXTRACT(EPOCH FROM m.created_at) * 1000000)::bigint AS created_micros
            """;

    static final String MARK_SENT = """
            UPDATE mail_outbox SET status = 'SENT', sent_at = now(), text_body = NULL, html_body = NULL,
                last_error = NULL, attempts = attempts + 1
            WHERE id = $1
            """;

    /** A mail given up ({@code FAILED}) loses its bodies: they hold the password, and nothing will send them any more. */
    static final String MARK_FAILED = """
            UPDATE mail_outbox SET status = $2, attempts = $3, last_error = $4,
                next_attempt_at = now() + make_interval(secs => $5),
                text_body = CASE WHEN $2 = 'FAILED' THEN NULL ELSE text_body END,
                html_body = CASE WHEN $2 = 'FAILED' THEN NULL ELSE html_body END
            WHERE id = $1
            """;

    static final String RECENT_RECIPIENTS = """
            SELECT recipient FROM mail_outbox WHERE status = 'SENT'
            GROUP BY recipient ORDER BY max(sent_at) DESC LIMIT $1
            """;

    /** A claimed mail: what the sender needs, and how many attempts failed before. */
    private static final String BACKLOG = """
            SELECT count(*) AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS oldest_seconds
            FROM mail_outbox WHERE status = 'PENDING'
            """;

    public record ClaimedMail(long id, String recipient, String subject, String textBody, String htmlBody, int attempts,
            long createdMicros) {

        /**
         * The mail's {@code Message-ID}, the same for every attempt: a mail sent again (its sender died between the
         * SMTP server's acceptance and the mark sent) is the same message to the recipient's mail system, which
         * shows it once. The outbox row's id and creation time (microseconds) make it unique across databases.
         */
        public String messageId(String domain) {
            return "<outbox." + id + "." + createdMicros + "@" + domain + ">";
        }

        @Override
        public String toString() {
            return "ClaimedMail[id=" + id + ", attempts=" + attempts + "]";
        }
    }

    private final Pool pool;

    public MailOutboxRepository(Pool pool) {
        this.pool = pool;
    }

    public Uni<List<ClaimedMail>> claimDue(int limit, Duration lease) {
        return pool.preparedQuery(CLAIM).execute(Tuple.of(limit, seconds(lease)))
                .map(rows -> {
                    List<ClaimedMail> claimed = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        claimed.add(new ClaimedMail(row.getLong("id"), row.getString("recipient"), row.getString("subject"),
                                row.getString("text_body"), row.getString("html_body"), row.getInteger("attempts"),
                                row.getLong("created_micros")));
                    }
                    return claimed;
                });
    }

    /** Marks the mail sent and removes its bodies, which held the password. */
    public Uni<Void> markSent(long id) {
        return pool.preparedQuery(MARK_SENT).execute(Tuple.of(id)).replaceWithVoid();
    }

    /** Records a failed attempt: due again after {@code retryIn}, or given up as {@code FAILED} (bodies removed). */
    public Uni<Void> markFailed(long id, OutboxMail.Status status, int attempts, String error, Duration retryIn) {
        return pool.preparedQuery(MARK_FAILED)
                .execute(Tuple.tuple(List.of(id, status.name(), attempts, error, seconds(retryIn))))
                .replaceWithVoid();
    }

    /** The mails not sent yet (due or waiting for a retry) and the age of the oldest, in seconds (0 if none). */
    public Uni<Backlog> backlog() {
        return pool.query(BACKLOG).execute().map(rows -> {
            Row row = rows.iterator().next();
            return new Backlog(row.getLong("pending"), row.getDouble("oldest_seconds"));
        });
    }

    public record Backlog(long pending, double oldestSeconds) {
    }

    /** Recipients of the most recently sent mails, newest first. */
    public Uni<List<String>> recentRecipients(int limit) {
        return pool.preparedQuery(RECENT_RECIPIENTS).execute(Tuple.of(limit))
                .map(rows -> {
                    List<String> recipients = new ArrayList<>(rows.size());
                    rows.forEach(row -> recipients.add(row.getString("recipient")));
                    return recipients;
                });
    }

    private static double seconds(Duration duration) {
        return duration.toMillis() / 1000.0;
    }
}
