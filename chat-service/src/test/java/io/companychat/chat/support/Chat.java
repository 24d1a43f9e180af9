package io.companychat.chat.support;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.oneOf;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;

/**
 * Test fixture for chat-service: users that exist both as rows (for the foreign keys) and in the
 * user-service double, their tokens, and the API calls tests need as set-up.
 */
public final class Chat {

    public static final String CONVERSATIONS = "/api/conversations";

    private final TestDatabase database;
    private final UserServiceDouble userService;
    private final TestTokens tokens;
    private final Map<Long, String> tokenCache = new ConcurrentHashMap<>();
    private Long sentinelSender;

    public Chat(TestDatabase database, UserServiceDouble userService, TestTokens tokens) {
        this.database = database;
        this.userService = userService;
        this.tokens = tokens;
    }

    public static String messagesOf(long conversationId) {
        return CONVERSATIONS + "/" + conversationId + "/messages";
    }

    public static String conversationOf(long conversationId) {
        return CONVERSATIONS + "/" + conversationId;
    }

    public static String membersOf(long conversationId) {
        return CONVERSATIONS + "/" + conversationId + "/members";
    }

    /** A users row, as user-service would have written it, that the user-service double knows too. */
    public long newUser(String name) {
        String email = name.toLowerCase() + "." + UUID.randomUUID() + "@example.com";
        long id = queryLong("INSERT INTO users (name, subname, email, job, password_hash) "
                + "VALUES (?, 'Tester', ?, 'Engineer', 'not-a-hash') RETURNING id", name, email);
        userService.register(id);
        return id;
    }

    /** {@code count} users at once (one statement), registered with the user-service double; their ids ascending. */
    public List<Long> newUsers(String name, int count) {
        List<Long> ids = new ArrayList<>(count);
        try (Connection connection = database.connect(); PreparedStatement statement = connection.prepareStatement(
                "INSERT INTO users (name, subname, email, job, password_hash) "
                        + "SELECT ?, 'Tester', ? || g || '@example.com', 'Engineer', 'not-a-hash' FROM generate_series(1, ?) g "
                        + "RETURNING id")) {
            statement.setString(1, name);
            statement.setString(2, name.toLowerCase() + "." + UUID.randomUUID() + ".");
            statement.setInt(3, count);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("test users not inserted", e);
        }
        ids.sort(null);
        ids.forEach(userService::register);
        return ids;
    }

    public String tokenFor(long userId) {
        return tokenCache.computeIfAbsent(userId, id -> tokens.tokenFor(id, "user" + id + "@example.com"));
    }

    /** A JSON request authenticated as the user. */
    public RequestSpecification as(long userId) {
        return given().auth().oauth2(tokenFor(userId)).contentType(ContentType.JSON).accept(ContentType.JSON);
    }

    /** Starts (or finds) the conversation of the two users through the API. */
    public long conversation(long userId, long otherUserId) {
        return as(userId).body(Map.of("recipient_id", otherUserId))
                .when().post(CONVERSATIONS)
                .then().statusCode(oneOf(200, 201))
                .extract().jsonPath().getLong("id");
    }

    /** Creates a group of the creator and the others through the API and returns its id. */
    public long group(long creatorId, String title, Long... others) {
        return as(creatorId).body(Map.of("title", title, "member_ids", List.of(others)))
                .when().post(CONVERSATIONS)
                .then().statusCode(201)
                .extract().jsonPath().getLong("id");
    }

    /** Adds a member through the API (200). */
    public void addMember(long callerId, long conversationId, long userId) {
        as(callerId).body(Map.of("user_id", userId)).when().post(membersOf(conversationId)).then().statusCode(200);
    }

    /** Removes a member through the API (204). */
    public void removeMember(long callerId, long conversationId, long userId) {
        as(callerId).when().delete(membersOf(conversationId) + "/" + userId).then().statusCode(204);
    }

    /** Posts a message through the API and returns its id. */
    public long post(long userId, long conversationId, String content) {
        return as(userId).body(Map.of("content", content))
                .when().post(messagesOf(conversationId))
                .then().statusCode(201)
                .extract().jsonPath().getLong("id");
    }

    /**
     * {@code count} messages at once (one statement), as the API stores them: the senders take turns, the content is
     * "message 0", "message 1", ... and each is dated a millisecond after the one before. Their ids ascending.
     */
    public List<Long> newMessages(long conversationId, int count, long... senderIds) {
        List<Long> ids = new ArrayList<>(count);
        try (Connection connection = database.connect(); PreparedStatement statement = connection.prepareStatement(
                "INSERT INTO messages (conversation_id, sender_id, content, date, inserted_at, updated_at) "
                        + "SELECT ?, (?::bigint[])[g % ? + 1], 'message ' || g, t, t, t "
                        + "FROM generate_series(0, ? - 1) g, LATERAL (SELECT now() - (? - g) * interval '1 millisecond' AS t) d "
                        + "ORDER BY g RETURNING id")) {
            statement.setLong(1, conversationId);
            statement.setArray(2, connection.createArrayOf("bigint", Arrays.stream(senderIds).boxed().toArray()));
            statement.setInt(3, senderIds.length);
            statement.setInt(4, count);
            statement.setInt(5, count);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("test messages not inserted", e);
        }
        ids.sort(null);
        return ids;
    }

    /**
     * The pushes of {@code event} that reach the user's socket before a direct message posted now to the user by a
     * user of its own (the sentinel): whatever was already on its way to the socket comes first, so an empty list
     * shows that nothing came without waiting out a quiet period. The sentinel reaches all the user's sockets.
     */
    public List<JsonNode> pushesBeforeSentinel(PhoenixTestSocket socket, long userId, String event) {
        if (sentinelSender == null) {
            sentinelSender = newUser("Sentinel");
        }
        long sentinel = post(sentinelSender, conversation(sentinelSender, userId), "sentinel");
        List<JsonNode> before = new ArrayList<>();
        socket.await(frame -> {
            if ("receive_msg".equals(frame.path(3).asText()) && frame.at("/4/message/id").asLong() == sentinel) {
                return true;
            }
            if (event.equals(frame.path(3).asText()) && frame.path(1).isNull()) {
                before.add(frame);
            }
            return false;
        }, PhoenixTestSocket.WAIT, "the sentinel message " + sentinel);
        return before;
    }

    public long countMessages(long conversationId) {
        return queryLong("SELECT count(*) FROM messages WHERE conversation_id = ?", conversationId);
    }

    /** The contents of the conversation's messages, oldest first. */
    public List<String> contentsOf(long conversationId) {
        List<String> contents = new ArrayList<>();
        try (Connection connection = database.connect();
                PreparedStatement statement = connection.prepareStatement("SELECT content FROM messages WHERE conversation_id = ? ORDER BY id")) {
            statement.setLong(1, conversationId);
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    contents.add(rows.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("test query failed", e);
        }
        return contents;
    }

    public long countConversationsOfPair(long userId, long otherUserId) {
        return queryLong("SELECT count(*) FROM conversations WHERE LEAST(sender_id, recipient_id) = ? "
                + "AND GREATEST(sender_id, recipient_id) = ?", Math.min(userId, otherUserId), Math.max(userId, otherUserId));
    }

    public long queryLong(String sql, Object... params) {
        try (Connection connection = database.connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                if (!rows.next()) {
                    throw new AssertionError("no row for " + sql);
                }
                return rows.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("test query failed: " + sql, e);
        }
    }
}
