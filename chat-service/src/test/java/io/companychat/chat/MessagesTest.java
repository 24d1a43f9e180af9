package io.companychat.chat;

import static io.companychat.chat.support.Chat.messagesOf;
import static io.companychat.chat.support.HttpAssertions.expectFieldErrors;
import static io.companychat.chat.support.HttpAssertions.expectMessage;
import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.Parallel;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Posting messages: what is stored, idempotency by client id, content rules, the live push. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class MessagesTest {

    private static final String HELLO = "  Hello Bob,\n  lunch at noon?  ";
    private static final List<String> BLANK = List.of("can't be blank");
    private static final List<String> TOO_LONG = List.of("should be at most 4000 character(s)");
    private static final List<String> INVALID = List.of("has invalid format");
    private static final int IDEMPOTENCY_RACE_ROUNDS = 10;
    private static final int RACERS = 3;

    @InjectTestDatabase
    TestDatabase database;
    @InjectTestTokens
    TestTokens tokens;
    @InjectUserService
    UserServiceDouble userService;
    @TestHTTPResource("/")
    URI root;

    private Chat chat;
    private long ann;
    private long bob;
    private long conversation;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        conversation = chat.conversation(ann, bob);
    }

    @Test
    void postingIs201WithTheMessageStoredAsSentAndDatedByTheServer() {
        Instant before = Instant.now().minusMillis(1);

        Response response = expectStatus(post(ann, Map.of("content", HELLO)), 201, "post");
        Instant after = Instant.now().plusMillis(1);

        Map<String, Object> json = response.jsonPath().getMap("$");
        assertThat(json).as("message JSON").containsOnlyKeys("id", "conversation_id", "sender_id", "content", "date",
                "inserted_at", "edited_at", "deleted_at");
        assertThat(json.get("conversation_id")).as("conversation_id").isEqualTo((int) conversation);
        assertThat(((Number) json.get("sender_id")).longValue()).as("sender_id").isEqualTo(ann);
        assertThat(json.get("content")).as("content, stored untrimmed").isEqualTo(HELLO);
        assertThat((String) json.get("date")).as("date format").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(Instant.parse((String) json.get("date"))).as("date is the time of receipt")
                .isBetween(before.minusMillis(1), after);
        long id = ((Number) json.get("id")).longValue();
        assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE id = ? AND content = ? AND sender_id = ?", id, HELLO, ann))
                .as("stored row with the content as sent").isEqualTo(1);
    }

    @Test
    void repeatedClientIdReturnsTheFirstMessageWith200AndStoresNothingNew() {
        Response first = expectStatus(post(ann, Map.of("content", "first", "client_id", "ann-1")), 201, "first post");
        Response again = expectStatus(post(ann, Map.of("content", "first", "client_id", "ann-1")), 200, "repeat");
        Response changed = expectStatus(post(ann, Map.of("content", "edited", "client_id", "ann-1")), 200,
                "repeat with other content");

        assertThat(again.jsonPath().getMap("$")).as("repeat answers the first message").isEqualTo(first.jsonPath().getMap("$"));
        assertThat(changed.jsonPath().getString("content")).as("content of a repeat").isEqualTo("first");
        assertThat(chat.countMessages(conversation)).as("messages stored").isEqualTo(1);
    }

    @Test
    void theSameClientIdFromTheOtherParticipantIsAnotherMessage() {
        long fromAnn = expectStatus(post(ann, Map.of("content", "hi", "client_id", "shared-key")), 201, "Ann")
                .jsonPath().getLong("id");
        long fromBob = expectStatus(post(bob, Map.of("content", "hi", "client_id", "shared-key")), 201, "Bob")
                .jsonPath().getLong("id");

        assertThat(fromBob).as("Bob's message is his own").isNotEqualTo(fromAnn);
        assertThat(chat.countMessages(conversation)).as("messages stored").isEqualTo(2);
    }

    @Test
    void concurrentPostsWithTheSameClientIdStoreOneMessageAndAllGetIt() throws Exception {
        for (int round = 0; round < IDEMPOTENCY_RACE_ROUNDS; round++) {
            String clientId = "race-" + round;
            List<Supplier<Response>> racers = new ArrayList<>();
            for (int i = 0; i < RACERS; i++) {
                racers.add(() -> post(ann, Map.of("content", "once", "client_id", clientId)));
            }

            List<Response> responses = Parallel.run(racers);

            List<String> outcome = responses.stream().map(r -> r.statusCode() + " " + r.asString()).toList();
            assertThat(responses.stream().map(Response::statusCode).sorted().toList())
                    .as("round %d: one 201 and the rest 200: %s", round, outcome).containsExactly(200, 200, 201);
            assertThat(responses.stream().map(r -> r.jsonPath().getLong("id")).distinct().count())
                    .as("round %d: everybody got the same message: %s", round, outcome).isEqualTo(1);
            assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE sender_id = ? AND client_id = ?", ann, clientId))
                    .as("round %d: rows stored", round).isEqualTo(1);
        }
    }

    @Test
    void aBurstOfConcurrentPostsIsStoredOnceEachAndEveryCallerGetsItsOwnMessage() throws Exception {
        // Concurrent posts are written together (group commit): each caller must still get its
        // own row, with or without a client id, and a repeated key inside the burst stays one row.
        int burst = 48;
        List<Supplier<Response>> posts = new ArrayList<>();
        for (int i = 0; i < burst; i++) {
            long sender = i % 2 == 0 ? ann : bob;
            Map<String, String> body = i % 3 == 0 ? Map.of("content", "burst " + i)
                    : Map.of("content", "burst " + i, "client_id", "burst-" + i);
            posts.add(() -> post(sender, body));
        }
        posts.add(() -> post(ann, Map.of("content", "burst 2", "client_id", "burst-2")));
        posts.add(() -> post(ann, Map.of("content", "burst 2", "client_id", "burst-2")));

        List<Response> responses = Parallel.run(posts);

        for (int i = 0; i < burst; i++) {
            Response response = responses.get(i);
            assertThat(response.statusCode()).as("post %d: %s", i, response.asString()).isIn(200, 201);
            assertThat(response.jsonPath().getString("content")).as("post %d answers its own message", i)
                    .isEqualTo("burst " + i);
            assertThat(response.jsonPath().getLong("sender_id")).as("post %d sender", i).isEqualTo(i % 2 == 0 ? ann : bob);
        }
        assertThat(responses.subList(burst, burst + 2)).as("repeats of burst-2 answer its one message")
                .allSatisfy(r -> assertThat(r.jsonPath().getLong("id")).isEqualTo(responses.get(2).jsonPath().getLong("id")));
        assertThat(responses.stream().map(Response::statusCode).filter(s -> s == 201).count())
                .as("messages created").isEqualTo(burst);
        assertThat(responses.stream().limit(burst).map(r -> r.jsonPath().getLong("id")).distinct().count())
                .as("distinct ids").isEqualTo(burst);
        assertThat(chat.countMessages(conversation)).as("rows stored").isEqualTo(burst);
        assertThat(chat.queryLong("SELECT count(DISTINCT content) FROM messages WHERE conversation_id = ?", conversation))
                .as("distinct contents stored").isEqualTo(burst);
    }

    @Test
    void clientIdReusedInAnotherConversationIs409() {
        long cid = chat.newUser("Cid");
        long other = chat.conversation(ann, cid);
        expectStatus(post(ann, Map.of("content", "to Bob", "client_id", "k-1")), 201, "first use");

        Response reused = chat.as(ann).body(Map.of("content", "to Cid", "client_id", "k-1")).post(messagesOf(other));

        expectMessage(reused, 409, "client id reused in another conversation");
        assertThat(chat.countMessages(other)).as("messages stored in the other conversation").isZero();
    }

    @Test
    void blankOrTooLongContentIs422AndStoresNothing() {
        Map<String, List<String>> cases = new LinkedHashMap<>();
        cases.put("", BLANK);
        cases.put(" ", BLANK);
        cases.put(" \t\n\r ", BLANK);
        cases.put("\u00a0\u2003", BLANK);
        cases.put("x".repeat(4001), TOO_LONG);
        cases.put("😀".repeat(4001), TOO_LONG);
        cases.put(" ".repeat(4001), BLANK);

        cases.forEach((content, errors) -> expectFieldErrors(post(ann, Map.of("content", content)), Map.of("content", errors),
                "content of " + content.length() + " chars"));
        assertThat(chat.countMessages(conversation)).as("messages stored").isZero();
    }

    @Test
    void missingOrNullContentIs422CantBeBlank() {
        for (String body : List.of("{}", "{\"content\": null}", "{\"client_id\": \"x\"}")) {
            expectFieldErrors(chat.as(ann).body(body).post(messagesOf(conversation)), Map.of("content", BLANK), body);
        }
        expectFieldErrors(chat.as(ann).post(messagesOf(conversation)), Map.of("content", BLANK), "no body");
        assertThat(chat.countMessages(conversation)).as("messages stored").isZero();
    }

    @Test
    void nonStringContentIsAWrongType400AndStoresNothing() {
        for (String content : List.of("42", "4.2", "true", "{\"text\": \"hi\"}", "[\"hi\"]")) {
            Response response = chat.as(ann).body("{\"content\": " + content + "}").post(messagesOf(conversation));
            expectStatus(response, 400, "content " + content);
            assertThat(response.jsonPath().getString("message")).as("the reason for content %s", content)
                    .isEqualTo("invalid value for content");
        }
        assertThat(chat.countMessages(conversation)).as("messages stored").isZero();
    }

    @Test
    void malformedJsonIs400AndStoresNothing() {
        for (String body : List.of("{\"content\": \"hi\"", "{\"content\": \"hi\",}", "content=hi", "\"hi\"", "[]",
                "{\"content\": \"hi\", \"client_id\": 7}", "{\"content\": \"hi\"}xyz", "{\"content\": \"hi\"}}",
                "{\"content\": \"hi\"} {\"content\": \"two\"}")) {
            expectMessage(chat.as(ann).body(body).post(messagesOf(conversation)), 400, body);
        }
        assertThat(chat.countMessages(conversation)).as("messages stored").isZero();
    }

    @Test
    void contentOf4000CharactersIsStoredCountingAnEmojiAsOne() {
        String plain = "x".repeat(4000);
        String emoji = "😀".repeat(4000);

        expectStatus(post(ann, Map.of("content", plain)), 201, "4000 letters");
        Response stored = expectStatus(post(ann, Map.of("content", emoji)), 201, "4000 emoji");

        assertThat(stored.jsonPath().getString("content")).as("emoji content round trip").isEqualTo(emoji);
        assertThat(chat.countMessages(conversation)).as("messages stored").isEqualTo(2);
    }

    @Test
    void textPostgresCannotStoreIs422NotA500() {
        expectFieldErrors(post(ann, Map.of("content", "a\u0000b")), Map.of("content", INVALID), "NUL in content");
        expectFieldErrors(chat.as(ann).body("{\"content\": \"half \\ud83d pair\"}").post(messagesOf(conversation)),
                Map.of("content", INVALID), "lone surrogate in content");
        expectFieldErrors(post(ann, Map.of("content", "hi", "client_id", "k\u0000")), Map.of("client_id", INVALID),
                "NUL in client_id");
        assertThat(chat.countMessages(conversation)).as("messages stored").isZero();
    }

    @Test
    void clientIdMustBeAShortNonBlankString() {
        expectFieldErrors(post(ann, Map.of("content", "hi", "client_id", "k".repeat(256))),
                Map.of("client_id", List.of("should be at most 255 character(s)")), "256-char client_id");
        expectFieldErrors(post(ann, Map.of("content", "hi", "client_id", " ")), Map.of("client_id", BLANK), "blank client_id");
        expectFieldErrors(post(ann, Map.of("content", " ", "client_id", "")), Map.of("content", BLANK, "client_id", BLANK),
                "both blank");
        expectStatus(post(ann, Map.of("content", "hi", "client_id", "k".repeat(255))), 201, "255-char client_id");
        assertThat(chat.countMessages(conversation)).as("messages stored").isEqualTo(1);
    }

    @Test
    void bodyOverTheSizeLimitIs413AndStoresNothing() {
        Response response = post(ann, Map.of("content", "x".repeat(70_000)));

        expectStatus(response, 413, "70 kB body");
        assertThat(chat.countMessages(conversation)).as("messages stored").isZero();
    }

    @Test
    void storedMessageIsPushedOnceAfterCommitToBothParticipantsAndNotAgainForARepeat() {
        try (PhoenixTestSocket bobSocket = joined(bob); PhoenixTestSocket annSocket = joined(ann)) {
            long id = expectStatus(post(ann, Map.of("content", "live", "client_id", "live-1")), 201, "post").jsonPath()
                    .getLong("id");

            JsonNode pushed = bobSocket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message");
            assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE id = ?", id))
                    .as("row committed when the push arrived").isEqualTo(1);
            assertThat(pushed.get("id").asLong()).as("pushed message").isEqualTo(id);
            assertThat(pushed.get("sender_id").asLong()).as("sender").isEqualTo(ann);
            assertThat(pushed.get("content").asText()).as("content").isEqualTo("live");
            assertThat(pushed.get("conversation_id").asLong()).as("conversation").isEqualTo(conversation);
            assertThat(annSocket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong())
                    .as("the poster's own socket (a REST post reaches all of them)").isEqualTo(id);

            expectStatus(post(ann, Map.of("content", "live", "client_id", "live-1")), 200, "repeat");
            assertThat(chat.pushesBeforeSentinel(bobSocket, bob, "receive_msg")).as("a repeated client id is not pushed again").isEmpty();
        }
    }

    @Test
    void refusedMessagesAreNotPushed() {
        long eve = chat.newUser("Eve");
        try (PhoenixTestSocket bobSocket = joined(bob)) {
            expectStatus(post(ann, Map.of("content", " ")), 422, "blank");
            expectStatus(post(eve, Map.of("content", "intruder")), 404, "non-participant");

            assertThat(chat.pushesBeforeSentinel(bobSocket, bob, "receive_msg")).as("a push for a refused message").isEmpty();
        }
    }

    private PhoenixTestSocket joined(long user) {
        PhoenixTestSocket socket = PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(),
                chat.tokenFor(user));
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket;
    }

    private Response post(long userId, Map<String, String> body) {
        return chat.as(userId).body(body).when().post(messagesOf(conversation));
    }

}
