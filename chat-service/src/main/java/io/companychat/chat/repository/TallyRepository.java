package io.companychat.chat.repository;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Message tallies (migration V7): the count of a conversation's messages up to an id, at every
 * {@link #SPACING}th message, so that an unread count never walks more than a few hundred index
 * entries however long the unread range ({@link ConversationRepository#READ_STATE} reads them).
 */
@ApplicationScoped
public class TallyRepository {

    /** A tally every this many messages of a conversation; an unread range shorter than this is counted as it is. */
    public static final int SPACING = 256;

    /**
     * The newest message id the snapshot sees, and the snapshot's bounds: every transaction with an
     * id below {@code xmin} has ended, none from {@code xmax} on had begun. {@code max(id)}: one
     * backward probe of the primary key.
     */
    static final String STAMP = """
            SELECT coalesce((SELECT max(id) FROM messages), 0) AS last_id,
                   pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
                   pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax""";

    /**
     * The missing tallies of the conversations {@code $1} up to message id {@code $2}: from each
     * one's last tally (or its first message), the messages numbered in id order on
     * {@code messages_history_idx} (index-only), every {@value #SPACING}th kept. Replicas that
     * write the same tally at once write the same row, so a conflict is nothing.
     */
    static final String BUILD = """
            INSERT INTO message_tallies (conversation_id, upto_id, position)
            SELECT numbered.conversation_id, numbered.id, numbered.position
            FROM (SELECT c.id AS conversation_id, m.id,
                         coalesce(last.position, 0) + row_number() OVER (PARTITION BY c.id ORDER BY m.id) AS position
                  FROM unnest($1::bigint[]) AS c (id)
                  LEFT JOIN LATERAL (SELECT t.upto_id, t.position FROM message_tallies t
                                     WHERE t.conversation_id = c.id ORDER BY t.upto_id DESC LIMIT 1) last ON true
                  JOIN messages m ON m.conversation_id = c.id AND m.id > coalesce(last.upto_id, 0) AND m.id <= $2) numbered
            WHERE numbered.position %% %d = 0
            ON CONFLICT DO NOTHING""".formatted(SPACING);

    /** What {@link #STAMP} read. */
    public record Stamp(long lastId, long xmin, long xmax) {
    }

    private final Pool pool;

    public TallyRepository(Pool pool) {
        this.pool = pool;
    }

    public Uni<Stamp> stamp() {
        return pool.query(STAMP).execute().map(rows -> {
            Row row = rows.iterator().next();
            return new Stamp(row.getLong("last_id"), row.getLong("xmin"), row.getLong("xmax"));
        });
    }

    /** Writes the tallies the conversations lack up to message {@code uptoId} (which no message below can still join); how many. */
    public Uni<Integer> build(List<Long> conversationIds, long uptoId) {
        return pool.preparedQuery(BUILD).execute(Tuple.of(conversationIds.toArray(Long[]::new), uptoId))
                .map(rows -> rows.rowCount());
    }
}
