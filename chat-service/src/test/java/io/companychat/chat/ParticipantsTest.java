package io.companychat.chat;

import static io.companychat.chat.support.Chat.CONVERSATIONS;
import static io.companychat.chat.support.Chat.messagesOf;
import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** Only the two participants see a conversation; to anyone else it does not exist. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class ParticipantsTest {

    private static final Map<String, String> NOT_FOUND = Map.of("message", "not found");
    private static final List<String> NOT_IDS = List.of("abc", "0", "-1", "1.5", "99999999999999999999", "%20");

    @InjectTestDatabase
    TestDatabase database;
    @InjectTestTokens
    TestTokens tokens;
    @InjectUserService
    UserServiceDouble userService;

    private Chat chat;
    private long ann;
    private long bob;
    private long eve;
    private long conversation;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        eve = chat.newUser("Eve");
        conversation = chat.conversation(ann, bob);
        chat.post(ann, conversation, "private");
    }

    @Test
    void thirdUserGets404OnEveryRoute() {
        for (Response response : everyRouteOf(eve, Long.toString(conversation))) {
            expectNotFound(response, "Eve on Ann and Bob's conversation");
        }
        assertThat(chat.countMessages(conversation)).as("messages in the conversation").isEqualTo(1);
        assertThat(chat.as(bob).get(messagesOf(conversation)).jsonPath().getList("data.content"))
                .as("what Bob sees").containsExactly("private");
    }

    @Test
    void guessedIdOfANonexistentConversationGivesTheSame404() {
        long unused = chat.queryLong("SELECT coalesce(max(id), 0) FROM conversations") + 1_000;
        for (Response response : everyRouteOf(ann, Long.toString(unused))) {
            expectNotFound(response, "conversation " + unused);
        }
        for (Response response : everyRouteOf(eve, Long.toString(Long.MAX_VALUE))) {
            expectNotFound(response, "conversation Long.MAX_VALUE");
        }
    }

    @Test
    void conversationIdThatIsNotAPositiveIntegerIs404() {
        for (String id : NOT_IDS) {
            for (Response response : everyRouteOf(ann, id)) {
                expectNotFound(response, "conversation id '" + id + "'");
            }
        }
    }

    @Test
    void othersConversationsAreNotListed() {
        List<Long> listed = expectStatus(chat.as(eve).get(CONVERSATIONS), 200, "Eve's list").jsonPath()
                .getList("data.id", Long.class);

        assertThat(listed).as("Eve's conversations").doesNotContain(conversation).isEmpty();
    }

    private List<Response> everyRouteOf(long userId, String id) {
        String path = CONVERSATIONS + "/" + id + "/messages";
        return List.of(
                chat.as(userId).get(path),
                chat.as(userId).queryParam("limit", 10).queryParam("before", 5).get(path),
                chat.as(userId).body(Map.of("content", "hello?")).post(path),
                chat.as(userId).body(Map.of("content", "hello?", "client_id", "probe")).post(path));
    }

    private static void expectNotFound(Response response, String what) {
        expectStatus(response, 404, what);
        assertThat(response.jsonPath().getMap("$")).as("%s: body", what).isEqualTo(NOT_FOUND);
    }
}
