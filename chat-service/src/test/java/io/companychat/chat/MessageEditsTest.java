package io.companychat.chat;

import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.ArrayList;
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

/**
 * Editing and deleting messages and searching them (API.md Part 2, "Editing and deleting messages"
 * and "Search"), through REST and the socket's pushes.
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class MessageEditsTest {

    private static final String SEARCH = "/api/messages/search";

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
    private long eve;
    private long group;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        eve = chat.newUser("Eve");
        group = chat.group(ann, "Team", bob);
    }

    @Test
    void theSenderEditsAndEveryMembersConnectionsGetTheNewText() {
        long id = chat.post(ann, group, "helo world");
        try (PhoenixTestSocket annSocket = joined(ann); PhoenixTestSocket bobSocket = joined(bob);
                PhoenixTestSocket eveSocket = joined(eve)) {
            Response edited = edit(ann, group, id, "hello world");
            expectStatus(edited, 200, "the sender edits");
            JsonNode message = edited.as(JsonNode.class);
            assertThat(message.get("content").asText()).isEqualTo("hello world");
            assertThat(message.get("edited_at").isTextual()).as(message.toString()).isTrue();
            assertThat(message.get("deleted_at").isNull()).isTrue();
            for (PhoenixTestSocket socket : List.of(annSocket, bobSocket)) {
                assertThat(socket.awaitPush("message_updated", PhoenixTestSocket.WAIT).get("message")).isEqualTo(message);
            }
            assertThat(eveSocket.receivesPush("message_updated", java.time.Duration.ofMillis(300))).isFalse();
        }
        JsonNode inHistory = history(bob, group).get(0);
        assertThat(inHistory.get("content").asText()).isEqualTo("hello world");
        assertThat(inHistory.get("edited_at").isTextual()).isTrue();
        assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE content LIKE '%helo%'")).as("the old text is gone").isZero();
    }

    @Test
    void onlyTheSenderMayEditOrDeleteOutsidersGet404AndBadContent422() {
        long id = chat.post(ann, group, "mine");
        long direct = chat.conversation(ann, eve);
        long elsewhere = chat.post(ann, direct, "in another conversation");

        expectStatus(edit(bob, group, id, "changed by Bob"), 403, "another member edits");
        expectStatus(chat.as(bob).delete(messageOf(group, id)), 403, "another member deletes");
        expectStatus(edit(bob, group, id, ""), 403, "another member with bad content");
        expectStatus(edit(eve, group, id, "changed by Eve"), 404, "an outsider edits");
        expectStatus(edit(eve, group, id, ""), 404, "an outsider with bad content");
        expectStatus(chat.as(eve).delete(messageOf(group, id)), 404, "an outsider deletes");
        expectStatus(edit(ann, group, elsewhere, "wrong conversation"), 404, "a message of another conversation");
        expectStatus(chat.as(ann).delete(messageOf(group, elsewhere)), 404, "deleting one of another conversation");
        expectStatus(edit(ann, group, Long.MAX_VALUE, "none"), 404, "no such message");
        expectStatus(chat.as(ann).body(Map.of("content", "x")).patch(Chat.messagesOf(group) + "/abc"), 404, "not an id");

        Response blank = edit(ann, group, id, "   ");
        expectStatus(blank, 422, "blank content");
        assertThat(blank.jsonPath().getList("errors.content")).containsExactly("can't be blank");
        Response long4001 = edit(ann, group, id, "x".repeat(4001));
        expectStatus(long4001, 422, "too long");
        assertThat(long4001.jsonPath().getList("errors.content")).containsExactly("should be at most 4000 character(s)");
        Response number = chat.as(ann).body("{\"content\": 42}").patch(messageOf(group, id));
        expectStatus(number, 400, "content of the wrong type (API.md: wrong types are 400)");
        assertThat(number.jsonPath().getString("message")).isEqualTo("invalid value for content");
        assertThat(history(ann, group).get(0).get("content").asText()).as("nothing changed").isEqualTo("mine");
    }

    @Test
    void aDeletedMessageIsATombstoneEverywhereAndLeavesTheUnreadCount() {
        long first = chat.post(ann, group, "keep");
        long second = chat.post(ann, group, "take back");
        assertThat(unread(bob)).isEqualTo(2);
        try (PhoenixTestSocket bobSocket = joined(bob)) {
            expectStatus(chat.as(ann).delete(messageOf(group, second)), 204, "the sender deletes");
            JsonNode tombstone = bobSocket.awaitPush("message_deleted", PhoenixTestSocket.WAIT).get("message");
            assertThat(tombstone.get("id").asLong()).isEqualTo(second);
            assertThat(tombstone.get("content").isNull()).as(tombstone.toString()).isTrue();
            assertThat(tombstone.get("deleted_at").isTextual()).isTrue();
        }
        List<JsonNode> page = history(bob, group);
        assertThat(page.get(0).get("id").asLong()).isEqualTo(second);
        assertThat(page.get(0).get("content").isNull()).isTrue();
        assertThat(page.get(1).get("id").asLong()).isEqualTo(first);
        assertThat(unread(bob)).as("a deleted message is not unread").isEqualTo(1);
        assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE content = 'take back'")).isZero();

        expectStatus(chat.as(ann).delete(messageOf(group, second)), 204, "deleting again");
        Response editDeleted = edit(ann, group, second, "revived");
        expectStatus(editDeleted, 409, "editing a tombstone");
        assertThat(editDeleted.jsonPath().getString("message")).isNotBlank();
    }

    @Test
    void searchFindsWholeWordsInAnyLanguageOnlyInTheCallersConversations() {
        long mine = chat.post(ann, group, "Deploy the Ünïcode release on Friday");
        long greek = chat.post(bob, group, "Καλημέρα κόσμε, деплой сегодня");
        chat.post(ann, group, "deployment notes");
        long direct = chat.conversation(bob, eve);
        chat.post(eve, direct, "deploy without Ann");

        assertThat(searchIds(ann, "deploy")).as("whole words, any case, not 'deployment'").containsExactly(mine);
        assertThat(searchIds(ann, "ÜNÏCODE")).containsExactly(mine);
        assertThat(searchIds(ann, "καλημέρα")).as("Greek").containsExactly(greek);
        assertThat(searchIds(ann, "Деплой")).as("Cyrillic").containsExactly(greek);
        assertThat(searchIds(ann, "\"release on friday\"")).as("a phrase").containsExactly(mine);
        assertThat(searchIds(ann, "\"friday release\"")).as("not a phrase in that order").isEmpty();
        assertThat(searchIds(ann, "deploy -friday")).as("an exclusion").isEmpty();
        assertThat(searchIds(bob, "deploy")).as("Bob's two conversations, newest first").hasSize(2);
        assertThat(searchIds(eve, "release")).as("Eve is in no conversation with it").isEmpty();

        long left = chat.group(eve, "Short stay", ann);
        long said = chat.post(eve, left, "zebra crossing");
        assertThat(searchIds(ann, "zebra")).containsExactly(said);
        chat.removeMember(ann, left, ann);
        assertThat(searchIds(ann, "zebra")).as("a left group's messages are no longer found").isEmpty();
    }

    @Test
    void everyWordMustOccurAndOrIsJustAWord() {
        long red = chat.post(ann, group, "red only");
        chat.post(ann, group, "blue only");
        long both = chat.post(ann, group, "red or blue");
        long and = chat.post(ann, group, "red and blue & more");

        assertThat(searchIds(ann, "red or blue")).as("'or' is a word that must occur, not an operator").containsExactly(both);
        assertThat(searchIds(ann, "red OR blue")).as("in any case").containsExactly(both);
        assertThat(searchIds(ann, "red and blue")).containsExactly(and);
        assertThat(searchIds(ann, "red | blue")).as("punctuation is no operator either").containsExactly(and, both);
        assertThat(searchIds(ann, "red -or -\"and blue\"")).as("excluded word and phrase").containsExactly(red);
        assertThat(searchIds(ann, "\"blue or red\"")).as("a phrase with 'or' in it").isEmpty();
    }

    @Test
    void greekFinalSigmaMatchesItsCapitalAndTheMiddleForm() {
        long upper = chat.post(ann, group, "ΛΟΓΟΣ");
        long lower = chat.post(ann, group, "ο λόγος του");

        assertThat(searchIds(ann, "λογος")).as("ς typed, Σ stored").containsExactly(upper);
        assertThat(searchIds(ann, "ΛΌΓΟΣ")).as("Σ typed, ς stored").containsExactly(lower);
        assertThat(searchIds(ann, "λόγοσ")).as("σ typed at the end").containsExactly(lower);
    }

    @Test
    void aRunOfCjkOrThaiCharactersIsFoundWhereverItOccursInTheirText() {
        long japanese = chat.post(ann, group, "私は東京に住んでいます");
        long chinese = chat.post(ann, group, "我爱北京天安门");
        long thai = chat.post(ann, group, "สวัสดีครับ ผมชื่อ");
        long korean = chat.post(ann, group, "한국어 공부");
        long mixed = chat.post(ann, group, "Meeting in 東京 at 9, then 大阪");

        assertThat(searchIds(ann, "東京")).as("Japanese, kanji").containsExactly(mixed, japanese);
        assertThat(searchIds(ann, "住んで")).as("Japanese, kanji and kana").containsExactly(japanese);
        assertThat(searchIds(ann, "北京")).as("Chinese").containsExactly(chinese);
        assertThat(searchIds(ann, "สวัสดี")).as("Thai").containsExactly(thai);
        assertThat(searchIds(ann, "京東")).as("the characters in that order, next to each other").isEmpty();
        assertThat(searchIds(ann, "北天")).isEmpty();
        assertThat(searchIds(ann, "東京 大阪")).as("two runs, both must occur").containsExactly(mixed);
        assertThat(searchIds(ann, "東京 -住んで")).containsExactly(mixed);
        assertThat(searchIds(ann, "한국어")).as("Korean: whole words").containsExactly(korean);
        assertThat(searchIds(ann, "한국")).as("Korean writes spaces: not part of a word").isEmpty();
    }

    @Test
    void searchMatchesTextTypedInAnyUnicodeForm() {
        long composed = chat.post(ann, group, "caf\u00e9 at noon");
        long decomposed = chat.post(ann, group, "re\u0301sume\u0301 sent");
        long fullWidth = chat.post(ann, group, "Ｔｏｋｙｏ office");

        assertThat(searchIds(ann, "cafe\u0301")).as("é as e + accent finds é").containsExactly(composed);
        assertThat(searchIds(ann, "R\u00c9SUM\u00c9")).as("É finds e + accent").containsExactly(decomposed);
        assertThat(searchIds(ann, "tokyo")).as("full-width Latin").containsExactly(fullWidth);
        assertThat(searchIds(ann, "ＯＦＦＩＣＥ")).containsExactly(fullWidth);
    }

    @Test
    void editedMessagesAreFoundByTheirNewWordsAndDeletedOnesNever() {
        long id = chat.post(ann, group, "quarterly budget draft");
        expectStatus(edit(ann, group, id, "annual plan"), 200, "edit");
        assertThat(searchIds(bob, "budget")).as("old words").isEmpty();
        assertThat(searchIds(bob, "annual")).containsExactly(id);
        expectStatus(chat.as(ann).delete(messageOf(group, id)), 204, "delete");
        assertThat(searchIds(bob, "annual")).as("deleted").isEmpty();
    }

    @Test
    void searchPagesNewestFirstFiltersByConversationAndRefusesBadParameters() {
        List<Long> posted = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            posted.add(chat.post(ann, group, "standup note " + i));
        }
        long direct = chat.conversation(ann, bob);
        long inDirect = chat.post(bob, direct, "standup moved");

        JsonNode first = chat.as(ann).queryParam("q", "standup").queryParam("limit", 4).get(SEARCH).then().statusCode(200)
                .extract().as(JsonNode.class);
        List<Long> ids = ids(first.get("data"));
        assertThat(ids).containsExactly(inDirect, posted.get(4), posted.get(3), posted.get(2));
        JsonNode second = chat.as(ann).queryParam("q", "standup").queryParam("limit", 4)
                .queryParam("before", first.get("next").asText()).get(SEARCH).then().statusCode(200).extract().as(JsonNode.class);
        assertThat(ids(second.get("data"))).containsExactly(posted.get(1), posted.get(0));
        assertThat(second.get("next").isNull()).isTrue();

        JsonNode onlyDirect = chat.as(ann).queryParam("q", "standup").queryParam("conversation_id", direct).get(SEARCH)
                .then().statusCode(200).extract().as(JsonNode.class);
        assertThat(ids(onlyDirect.get("data"))).containsExactly(inDirect);
        expectStatus(chat.as(eve).queryParam("q", "standup").queryParam("conversation_id", direct).get(SEARCH), 404,
                "a conversation the caller is not in");

        for (Map<String, String> bad : List.of(Map.<String, String>of(), Map.of("q", "  "), Map.of("q", "x", "limit", "0"),
                Map.of("q", "x", "limit", "101"), Map.of("q", "x", "limit", "ten"), Map.of("q", "x", "before", "-3"),
                Map.of("q", "x", "conversation_id", "abc"))) {
            Response response = chat.as(ann).queryParams(bad).get(SEARCH);
            expectStatus(response, 400, bad.toString());
            assertThat(response.jsonPath().getString("message")).as(bad.toString()).isNotBlank();
        }
        expectStatus(chat.as(ann).queryParam("q", "!!!").get(SEARCH), 200, "a query of no words finds nothing, no error");
    }

    /** Edits and deletes of the same messages at once: every answer is 200, 204 or 409, and a deleted message stays deleted. */
    @Test
    void editsRacingWithDeletesLeaveTombstonesOrEditsNeverAMix() throws Exception {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ids.add(chat.post(ann, group, "racing " + i));
        }
        List<Supplier<Response>> calls = new ArrayList<>();
        for (long id : ids) {
            for (int round = 0; round < 3; round++) {
                String text = "edited " + id + " " + round;
                calls.add(() -> edit(ann, group, id, text));
            }
            calls.add(() -> chat.as(ann).delete(messageOf(group, id)));
        }
        List<Response> answers = Parallel.run(calls);
        assertThat(answers).allSatisfy(answer -> assertThat(answer.statusCode()).as(answer.asString()).isIn(200, 204, 409));
        assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE conversation_id = ? AND deleted_at IS NOT NULL", group))
                .as("every message deleted in the end").isEqualTo(ids.size());
        assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE conversation_id = ? AND content IS NOT NULL", group))
                .isZero();
        assertThat(searchIds(bob, "edited")).isEmpty();
        assertThat(searchIds(bob, "racing")).isEmpty();
    }

    private Response edit(long userId, long conversationId, long messageId, String content) {
        return chat.as(userId).body(Map.of("content", content)).patch(messageOf(conversationId, messageId));
    }

    private List<Long> searchIds(long userId, String q) {
        return ids(chat.as(userId).queryParam("q", q).get(SEARCH).then().statusCode(200).extract().as(JsonNode.class)
                .get("data"));
    }

    private List<JsonNode> history(long userId, long conversationId) {
        List<JsonNode> page = new ArrayList<>();
        chat.as(userId).get(Chat.messagesOf(conversationId)).then().statusCode(200).extract().as(JsonNode.class).get("data")
                .forEach(page::add);
        return page;
    }

    private long unread(long userId) {
        return chat.as(userId).get(Chat.conversationOf(group)).then().statusCode(200).extract().jsonPath()
                .getLong("unread_count");
    }

    private static List<Long> ids(JsonNode array) {
        List<Long> ids = new ArrayList<>();
        array.forEach(message -> ids.add(message.get("id").asLong()));
        return ids;
    }

    private static String messageOf(long conversationId, long messageId) {
        return Chat.messagesOf(conversationId) + "/" + messageId;
    }

    private PhoenixTestSocket joined(long user) {
        PhoenixTestSocket socket = PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(), chat.tokenFor(user));
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket;
    }
}
