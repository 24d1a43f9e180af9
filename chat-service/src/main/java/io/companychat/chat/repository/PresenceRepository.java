package io.companychat.chat.repository;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * Presence rows (migration V5): one per connection joined to {@code room:chat}, on any replica,
 * and one heartbeat row per replica. See {@code socket/PresenceTracker}.
 */
@ApplicationScoped
public class PresenceRepository {

    /** The users who share a conversation with the user {@code %s} (a parameter). */
    private static final String CONTACTS_OF = """
            SELECT DISTINCT other.user_id
            FROM conversation_members me
            JOIN conversation_members other ON other.conversation_id = me.conversation_id AND other.user_id <> me.user_id
            WHERE me.user_id = %s""";

    /**
     * A connection joins: its row, then the user's contacts and every online connection of theirs
     * and of the user's (a contact offline is one row with a null ref). The new row is not in the
     * statement's own snapshot; the caller adds it. The connections are read with one probe of
     * {@code presences_user_idx} per contact: the {@code OFFSET 0} keeps the planner from flattening
     * the lateral subquery into a hash join, which it costed lower but which read the whole table
     * (10,000 rows: 3 ms a join in the presence benchmark, against 0.8 ms with the probes).
     */
    static final String JOIN = """
            WITH joined AS (
                INSERT INTO presences (phx_ref, replica_id, user_id, online_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (phx_ref) DO NOTHING),
            contacts AS (%s)
            SELECT c.user_id, p.phx_ref, p.online_at
            FROM (SELECT user_id FROM contacts UNION ALL SELECT $3::bigint) c
            LEFT JOIN LATERAL (SELECT phx_ref, online_at FROM presences WHERE presences.user_id = c.user_id OFFSET 0) p ON true"""
            .formatted(CONTACTS_OF.formatted("$3"));

    /**
     * The lookup of {@link #JOIN} for several users at once, without the insert (their connections have their rows):
     * each user's contacts ({@code contact} set, no {@code phx_ref}), then the online connections of every user and
     * contact of the batch, each read once however many of the batch see them (one probe of
     * {@code presences_user_idx} per distinct user, as in {@link #JOIN}).
     */
    static final String LOOKUPS = """
            WITH pairs AS (
                SELECT DISTINCT me.user_id AS watcher, other.user_id AS contact
                FROM conversation_members me
                JOIN conversation_members other ON other.conversation_id = me.conversation_id AND other.user_id <> me.user_id
                WHERE me.user_id = ANY ($1)),
            seen AS (SELECT contact AS user_id FROM pairs UNION SELECT unnest($1::bigint[]))
            SELECT watcher AS user_id, contact, NULL::text AS phx_ref, NULL::bigint AS online_at FROM pairs
            UNION ALL
            SELECT s.user_id, NULL, p.phx_ref, p.online_at
            FROM seen s
            JOIN LATERAL (SELECT phx_ref, online_at FROM presences WHERE presences.user_id = s.user_id OFFSET 0) p ON true""";

    static final String LEAVE = "DELETE FROM presences WHERE phx_ref = $1";

    static final String CONTACTS = CONTACTS_OF.formatted("$1");

    static final String ONLINE = "SELECT user_id, phx_ref, online_at FROM presences WHERE user_id = ANY ($1)";

    /** {@code inserted}: the replica had no row (first beat, or it was taken for dead). */
    static final String HEARTBEAT = """
            INSERT INTO presence_replicas (replica_id) VALUES ($1)
            ON CONFLICT (replica_id) DO UPDATE SET seen_at = now()
            RETURNING (xmax = 0) AS inserted""";

    static final String RESTORE = """
            INSERT INTO presences (phx_ref, replica_id, user_id, online_at)
            SELECT ref, $1, user_id, online_at FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS c (ref, user_id, online_at)
            ON CONFLICT (phx_ref) DO NOTHING""";

    /**
     * The connections of replicas not seen for {@code $1} seconds, and of replicas with no row at
     * all: deleted, and returned (to the one replica whose statement deleted them, which announces
     * them as leaves); and, in a row of its own, when the earliest of the replicas found dead was last seen.
     */
    static final String REAP = """
            WITH dead AS (
                DELETE FROM presence_replicas WHERE seen_at < now() - make_interval(secs => $1) RETURNING replica_id, seen_at),
            gone AS (
                DELETE FROM presences p
                WHERE p.replica_id IN (SELECT replica_id FROM dead)
                   OR NOT EXISTS (SELECT 1 FROM presence_replicas r WHERE r.replica_id = p.replica_id)
                RETURNING p.user_id, p.phx_ref, p.online_at)
            SELECT user_id, phx_ref, online_at, NULL::timestamptz AS dead_since FROM gone
            UNION ALL
            SELECT NULL, NULL, NULL, min(seen_at) FROM dead HAVING count(*) > 0""";

    static final String FORGET_REPLICA = """
            WITH gone AS (DELETE FROM presence_replicas WHERE replica_id = $1)
            DELETE FROM presences WHERE replica_id = $1""";

    /** One online connection of a user. */
    public record Meta(long userId, String phxRef, long onlineAt) {
    }

    /** What a join found: the user's contacts and the online connections of them and of the user. */
    public record Lookup(List<Long> contacts, List<Meta> online) {

        public static final Lookup NOTHING = new Lookup(List.of(), List.of());
    }

    private final Pool pool;

    public PresenceRepository(Pool pool) {
        this.pool = pool;
    }

    public Uni<Lookup> join(String phxRef, String replicaId, long userId, long onlineAt) {
        return pool.preparedQuery(JOIN).execute(Tuple.of(phxRef, replicaId, userId, onlineAt)).map(rows -> {
            Set<Long> contacts = new LinkedHashSet<>();
            List<Meta> online = new ArrayList<>();
            for (Row row : rows) {
                long user = row.getLong("user_id");
                if (user != userId) {
                    contacts.add(user);
                }
                String ref = row.getString("phx_ref");
                if (ref != null) {
                    online.add(new Meta(user, ref, row.getLong("online_at")));
                }
            }
            return new Lookup(List.copyOf(contacts), online);
        });
    }

    /** What {@link #join} finds, for each of these users (whose connections have their rows already). */
    public Uni<Map<Long, Lookup>> lookups(List<Long> userIds) {
        return pool.preparedQuery(LOOKUPS).execute(Tuple.of(userIds.toArray(Long[]::new))).map(rows -> {
            Map<Long, List<Long>> contactsOf = new HashMap<>();
            Map<Long, List<Meta>> metasOf = new HashMap<>();
            for (Row row : rows) {
                long user = row.getLong("user_id");
                String ref = row.getString("phx_ref");
                if (ref == null) {
                    contactsOf.computeIfAbsent(user, u -> new ArrayList<>()).add(row.getLong("contact"));
                } else {
                    metasOf.computeIfAbsent(user, u -> new ArrayList<>(2)).add(new Meta(user, ref, row.getLong("online_at")));
                }
            }
            Map<Long, Lookup> lookups = new HashMap<>(userIds.size() * 2);
            for (long user : userIds) {
                List<Long> contacts = contactsOf.getOrDefault(user, List.of());
                List<Meta> online = new ArrayList<>(metasOf.getOrDefault(user, List.of()));
                for (long contact : contacts) {
                    online.addAll(metasOf.getOrDefault(contact, List.of()));
                }
                lookups.put(user, new Lookup(contacts, online));
            }
            return lookups;
        });
    }

    public Uni<Void> leave(String phxRef) {
        return pool.preparedQuery(LEAVE).execute(Tuple.of(phxRef)).replaceWithVoid();
    }

    public Uni<List<Long>> contacts(long userId) {
        return pool.preparedQuery(CONTACTS).execute(Tuple.of(userId)).map(rows -> {
            List<Long> contacts = new ArrayList<>(rows.size());
            rows.forEach(row -> contacts.add(row.getLong("user_id")));
            return contacts;
        });
    }

    /** The online connections of these users. */
    public Uni<List<Meta>> online(List<Long> userIds) {
        if (userIds.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        return pool.preparedQuery(ONLINE).execute(Tuple.of(userIds.toArray(Long[]::new))).map(PresenceRepository::metas);
    }

    /** @return whether the replica had no row before (its connections must be written again) */
    public Uni<Boolean> heartbeat(String replicaId) {
        return pool.preparedQuery(HEARTBEAT).execute(Tuple.of(replicaId))
                .map(rows -> rows.iterator().next().getBoolean("inserted"));
    }

    public Uni<Void> restore(String replicaId, List<Meta> connections) {
        if (connections.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return pool.preparedQuery(RESTORE).execute(Tuple.of(replicaId,
                connections.stream().map(Meta::phxRef).toArray(String[]::new),
                connections.stream().map(Meta::userId).toArray(Long[]::new),
                connections.stream().map(Meta::onlineAt).toArray(Long[]::new))).replaceWithVoid();
    }

    /** What a reap found: the dead replicas' connections, and since when the first of them was silent (null: none). */
    public record Reaped(List<Meta> connections, Instant deadSince) {
    }

    /** Deletes the dead replicas and their connections, and returns those and when the replicas were last seen. */
    public Uni<Reaped> reap(Duration replicaTimeout) {
        return pool.preparedQuery(REAP).execute(Tuple.of((double) replicaTimeout.toMillis() / 1000)).map(rows -> {
            List<Meta> metas = new ArrayList<>(rows.size());
            Instant deadSince = null;
            for (Row row : rows) {
                if (row.getLong("user_id") == null) {
                    deadSince = row.getOffsetDateTime("dead_since").toInstant();
                } else {
                    metas.add(new Meta(row.getLong("user_id"), row.getString("phx_ref"), row.getLong("online_at")));
                }
            }
            return new Reaped(metas, deadSince);
        });
    }

    public Uni<Void> forgetReplica(String replicaId) {
        return pool.preparedQuery(FORGET_REPLICA).execute(Tuple.of(replicaId)).replaceWithVoid();
    }

    private static List<Meta> metas(RowSet<Row> rows) {
        List<Meta> metas = new ArrayList<>(rows.size());
        rows.forEach(row -> metas.add(new Meta(row.getLong("user_id"), row.getString("phx_ref"), row.getLong("online_at"))));
        return metas;
    }
}
