package io.companychat.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.common.testing.TestDatabase;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The shared schema of common, as migrated by this service at start: tables and the rules the database enforces. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class SchemaTest {

    private static final List<String> TABLES = List.of(
            "users", "mail_outbox", "revoked_tokens", "login_failures", "conversations", "conversation_members", "messages",
            "flyway_schema_history");

    @InjectTestDatabase
    TestDatabase database;

    @Test
    void migrationCreatesEveryTable() throws SQLException {
        try (Connection connection = database.connect()) {
            for (String table : TABLES) {
                try (ResultSet tables = connection.getMetaData().getTables(null, "public", table, null)) {
                    assertThat(tables.next()).as("table %s exists", table).isTrue();
                }
            }
        }
    }

    @Test
    void aSecondConversationForTheSamePairIsRefusedWhicheverWayRound() throws SQLException {
        try (Connection connection = database.connect()) {
            long ann = insertUser(connection, "ann.pair@example.com");
            long bob = insertUser(connection, "bob.pair@example.com");
            insertConversation(connection, ann, bob);

            assertThatThrownBy(() -> insertConversation(connection, bob, ann))
                    .isInstanceOf(SQLException.class).hasMessageContaining("conversations_pair_key");
            assertThatThrownBy(() -> insertConversation(connection, ann, bob))
                    .isInstanceOf(SQLException.class).hasMessageContaining("conversations_pair_key");
            assertThatThrownBy(() -> insertConversation(connection, ann, ann))
                    .isInstanceOf(SQLException.class).hasMessageContaining("conversations_distinct_participants");
        }
    }

    @Test
    void groupsNeedATitleAndNoRecipientAndOneCreatorMayHaveManyGroups() throws SQLException {
        try (Connection connection = database.connect()) {
            long ann = insertUser(connection, "ann.group@example.com");
            long bob = insertUser(connection, "bob.group@example.com");
            insertGroup(connection, ann, "One");
            insertGroup(connection, ann, "Two");
            insertConversation(connection, ann, bob);

            assertThatThrownBy(() -> insertReturningId(connection,
                    "INSERT INTO conversations (kind, sender_id) VALUES ('group', ?) RETURNING id", ann))
                    .isInstanceOf(SQLException.class).hasMessageContaining("conversations_kind_shape");
            assertThatThrownBy(() -> insertReturningId(connection,
                    "INSERT INTO conversations (kind, title, sender_id, recipient_id) VALUES ('group', 'T', ?, ?) RETURNING id",
                    ann, bob))
                    .isInstanceOf(SQLException.class).hasMessageContaining("conversations_kind_shape");
            assertThatThrownBy(() -> insertReturningId(connection,
                    "INSERT INTO conversations (kind, title, sender_id) VALUES ('lobby', 'T', ?) RETURNING id", ann))
                    .isInstanceOf(SQLException.class).hasMessageContaining("conversations_kind_shape");
        }
    }

    /**
     * V3 on a database holding Part 1 data (migrated to V2 and filled as Part 1's service did):
     * every conversation becomes a direct one with the same id and its two members, messages
     * stay, and the pair rule still holds.
     */
    @Test
    void migrationToGroupsKeepsPartOneDataAsDirectConversations() throws Exception {
        try (TestDatabase partOne = TestDatabase.create()) {
            Flyway.configure().dataSource(partOne.jdbcUrl(), partOne.user(), partOne.password())
                    .locations("classpath:db/migration").target("2").load().migrate();
            long ann;
            long bob;
            long cid;
            long annBob;
            long cidAnn;
            try (Connection connection = partOne.connect()) {
                ann = insertUser(connection, "ann.v2@example.com");
                bob = insertUser(connection, "bob.v2@example.com");
                cid = insertUser(connection, "cid.v2@example.com");
                annBob = insertConversation(connection, ann, bob);
                cidAnn = insertConversation(connection, cid, ann);
                insertMessage(connection, annBob, ann, "k1");
                insertMessage(connection, annBob, bob, null);
                insertMessage(connection, cidAnn, cid, null);
            }

            Flyway.configure().dataSource(partOne.jdbcUrl(), partOne.user(), partOne.password())
                    .locations("classpath:db/migration").load().migrate();

            try (Connection connection = partOne.connect(); Statement statement = connection.createStatement()) {
                List<String> conversations = new ArrayList<>();
                try (ResultSet rows = statement.executeQuery("""
                        SELECT c.id, c.kind, c.title, c.sender_id, c.recipient_id,
                               array_to_string(ARRAY(SELECT user_id FROM conversation_members m
                                                     WHERE m.conversation_id = c.id ORDER BY user_id), ',') AS members,
                               (SELECT bool_and(m.joined_at = c.inserted_at) FROM conversation_members m
                                WHERE m.conversation_id = c.id) AS joined_at_creation
                        FROM conversations c ORDER BY c.id""")) {
                    while (rows.next()) {
                        conversations.add(rows.getLong("id") + " " + rows.getString("kind") + " " + rows.getString("title")
                                + " " + rows.getLong("sender_id") + "->" + rows.getLong("recipient_id") + " ["
                                + rows.getString("members") + "] " + rows.getBoolean("joined_at_creation"));
                    }
                }
                assertThat(conversations).as("conversations after V3").containsExactly(
                        annBob + " direct null " + ann + "->" + bob + " [" + Math.min(ann, bob) + "," + Math.max(ann, bob) + "] true",
                        cidAnn + " direct null " + cid + "->" + ann + " [" + Math.min(ann, cid) + "," + Math.max(ann, cid) + "] true");
                try (ResultSet rows = statement.executeQuery("SELECT count(*) FROM messages")) {
                    rows.next();
                    assertThat(rows.getLong(1)).as("messages kept").isEqualTo(3);
                }
                assertThatThrownBy(() -> insertConversation(connection, bob, ann))
                        .isInstanceOf(SQLException.class).hasMessageContaining("conversations_pair_key");
                long group = insertGroup(connection, ann, "After V3");
                assertThat(group).as("a group next to the migrated pairs").isGreaterThan(cidAnn);
            }
        }
    }

    /**
     * V8 on a database holding messages searched the V7 way: their search vectors are recomputed with the new
     * folding (a Greek final sigma, Japanese without spaces), tombstones stay out, and edits after it keep them.
     */
    @Test
    void migrationToSearchWordsRefoldsExistingMessages() throws Exception {
        try (TestDatabase before = TestDatabase.create()) {
            Flyway.configure().dataSource(before.jdbcUrl(), before.user(), before.password())
                    .locations("classpath:db/migration").target("7").load().migrate();
            long greek;
            long japanese;
            try (Connection connection = before.connect(); Statement statement = connection.createStatement()) {
                long ann = insertUser(connection, "ann.v7@example.com");
                long bob = insertUser(connection, "bob.v7@example.com");
                long conversation = insertConversation(connection, ann, bob);
                greek = insertMessage(connection, conversation, ann, null);
                japanese = insertMessage(connection, conversation, ann, null);
                long deleted = insertMessage(connection, conversation, ann, null);
                statement.execute("UPDATE messages SET content = 'ΛΟΓΟΣ' WHERE id = " + greek);
                statement.execute("UPDATE messages SET content = '私は東京に住んでいます' WHERE id = " + japanese);
                statement.execute("UPDATE messages SET content = NULL, deleted_at = now() WHERE id = " + deleted);
            }

            Flyway.configure().dataSource(before.jdbcUrl(), before.user(), before.password())
                    .locations("classpath:db/migration").load().migrate();

            try (Connection connection = before.connect()) {
                assertThat(searchIds(connection, "λογος")).as("the stored Σ, folded again").containsExactly(greek);
                assertThat(searchIds(connection, "東京")).as("the stored Japanese, split again").containsExactly(japanese);
                assertThat(searchIds(connection, "hi")).as("the tombstone's vector stays empty").isEmpty();
                try (Statement statement = connection.createStatement()) {
                    statement.execute("UPDATE messages SET content = 'λογος again' WHERE id = " + japanese);
                }
                assertThat(searchIds(connection, "ΛΟΓΟΣ")).as("an edit after V8").containsExactly(greek, japanese);
            }
        }
    }

    /**
     * V9: the search index's pending list is flushed in steps of at most 256 kB (32 pages), so that no insert carries a
     * flush of the default 4 MB (hundreds of ms). 3,000 messages of 20 distinct words each put well over 256 kB and
     * under 4 MB of entries into it: without the limit all of them are still pending here.
     */
    @Test
    void theSearchIndexPendingListIsFlushedInSmallSteps() throws SQLException {
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            long ann = insertUser(connection, "ann.pending@example.com");
            long bob = insertUser(connection, "bob.pending@example.com");
            long conversation = insertConversation(connection, ann, bob);
            statement.execute("INSERT INTO messages (conversation_id, sender_id, content, date) "
                    + "SELECT " + conversation + ", " + ann + ", (SELECT string_agg('word' || g || 'x' || k, ' ') "
                    + "FROM generate_series(1, 20) k), now() FROM generate_series(1, 3000) g");
            try (ResultSet pending = statement.executeQuery(
                    "SELECT gin_clean_pending_list('messages_search_idx'::regclass)")) {
                pending.next();
                assertThat(pending.getLong(1)).as("pages still pending after 3,000 inserts (8 kB each)").isLessThanOrEqualTo(32);
            }
        }
    }

    @Test
    void emailsAreUniqueWhateverTheirCase() throws SQLException {
        try (Connection connection = database.connect()) {
            insertUser(connection, "Case.Test@Example.com");
            assertThatThrownBy(() -> insertUser(connection, "case.test@example.COM"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("users_email_lower_key");
        }
    }

    @Test
    void clientIdsAreUniquePerSenderOnly() throws SQLException {
        try (Connection connection = database.connect()) {
            long ann = insertUser(connection, "ann.client@example.com");
            long bob = insertUser(connection, "bob.client@example.com");
            long conversation = insertConversation(connection, ann, bob);

            insertMessage(connection, conversation, ann, "key-1");
            insertMessage(connection, conversation, bob, "key-1");
            insertMessage(connection, conversation, ann, null);
            insertMessage(connection, conversation, ann, null);
            assertThatThrownBy(() -> insertMessage(connection, conversation, ann, "key-1"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("messages_sender_client_id_key");
        }
    }

    @Test
    void twoServicesMigratingAnEmptyDatabaseAtOnceBothSucceed() throws Exception {
        try (TestDatabase empty = TestDatabase.create()) {
            CyclicBarrier start = new CyclicBarrier(2);
            Callable<Integer> migrate = () -> {
                Flyway flyway = Flyway.configure()
                        .dataSource(empty.jdbcUrl(), empty.user(), empty.password())
                        .locations("classpath:db/migration")
                        .load();
                start.await(10, TimeUnit.SECONDS);
                flyway.migrate();
                return flyway.info().applied().length;
            };
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<Integer>> runs = new ArrayList<>(List.of(pool.submit(migrate), pool.submit(migrate)));
                for (Future<Integer> run : runs) {
                    assertThat(run.get(60, TimeUnit.SECONDS)).as("migrations applied, seen by each migrator").isPositive();
                }
            } finally {
                pool.shutdownNow();
            }
            try (Connection connection = empty.connect(); Statement statement = connection.createStatement();
                    ResultSet rows = statement.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE success")) {
                rows.next();
                assertThat(rows.getInt(1)).as("each migration recorded once").isEqualTo(countMigrations(connection));
            }
        }
    }

    private static int countMigrations(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT count(DISTINCT version) FROM flyway_schema_history")) {
            rows.next();
            return rows.getInt(1);
        }
    }

    private static List<Long> searchIds(Connection connection, String word) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(
                "SELECT id FROM messages WHERE search @@ chat_search_query(ARRAY[?], '{}') ORDER BY id")) {
            statement.setString(1, word);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getLong(1));
                }
            }
        }
        return ids;
    }

    private static long insertUser(Connection connection, String email) throws SQLException {
        return insertReturningId(connection,
                "INSERT INTO users (name, subname, email, job, password_hash) VALUES ('N', 'S', ?, 'J', 'x') RETURNING id",
                email);
    }

    private static long insertConversation(Connection connection, long sender, long recipient) throws SQLException {
        return insertReturningId(connection,
                "INSERT INTO conversations (sender_id, recipient_id) VALUES (?, ?) RETURNING id", sender, recipient);
    }

    private static long insertGroup(Connection connection, long creator, String title) throws SQLException {
        return insertReturningId(connection,
                "INSERT INTO conversations (kind, title, sender_id) VALUES ('group', ?, ?) RETURNING id", title, creator);
    }

    private static long insertMessage(Connection connection, long conversation, long sender, String clientId) throws SQLException {
        return insertReturningId(connection,
                "INSERT INTO messages (conversation_id, sender_id, content, date, client_id) VALUES (?, ?, 'hi', now(), ?) RETURNING id",
                conversation, sender, clientId);
    }

    private static long insertReturningId(Connection connection, String sql, Object... params) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }
}
