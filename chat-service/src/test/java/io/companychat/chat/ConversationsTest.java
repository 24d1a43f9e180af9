package io.companychat.chat;

import static io.companychat.chat.support.Chat.CONVERSATIONS;
import static io.companychat.chat.support.HttpAssertions.expectFieldErrors;
import static io.companychat.chat.support.HttpAssertions.expectMessage;
import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.Parallel;
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
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/** Starting and listing conversations: the pair rule, the recipient check through user-service, races. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class ConversationsTest {

    private static final long UNKNOWN_USER = 987_654_321L;
    private static final List<String> DOES_NOT_EXIST = List.of("does not exist");
    private static final List<String> BLANK = List.of("can't be blank");
    private static final int RACE_ROUNDS = 8;
    private static final Duration USER_SERVICE_RECOVERY = Duration.ofSeconds(15);

    @InjectTestDatabase
    TestDatabase database;
    @InjectTestTokens
    TestTokens tokens;
    @InjectUserService
    UserServiceDouble userService;

    private Chat chat;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
    }

    @AfterEach
    void restoreUserService() {
        userService.answerAfter(Duration.ZERO);
        userService.answerTogether(1);
    }

    @Test
    void startingAConversationIs201AndAgainIs200WhicheverWayRound() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");

        Response created = expectStatus(start(ann, bob), 201, "first start by Ann");
        long id = created.jsonPath().getLong("id");
        assertThat(created.jsonPath().getLong("sender_id")).as("sender").isEqualTo(ann);
        assertThat(created.jsonPath().getLong("recipient_id")).as("recipient").isEqualTo(bob);

        Response again = expectStatus(start(ann, bob), 200, "same pair, same order");
        Response reversed = expectStatus(start(bob, ann), 200, "same pair, other order");
        assertThat(again.jsonPath().getLong("id")).as("same order gives the existing conversation").isEqualTo(id);
        assertThat(reversed.jsonPath().getLong("id")).as("other order gives the existing conversation").isEqualTo(id);
        assertThat(reversed.jsonPath().getLong("sender_id")).as("the starter stays the sender").isEqualTo(ann);
        assertThat(chat.countConversationsOfPair(ann, bob)).as("conversations stored for the pair").isEqualTo(1);
    }

    @Test
    void conversationJsonHasTheApiFields() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");
        Instant before = Instant.now().minusSeconds(5);

        Map<String, Object> json = expectStatus(start(ann, bob), 201, "start").jsonPath().getMap("$");

        assertThat(json).as("conversation JSON (Part 1 fields, then Part 2's)").containsOnlyKeys("id", "sender_id",
                "recipient_id", "status", "inserted_at", "updated_at", "kind", "title", "member_ids", "last_message",
                "last_read_id", "unread_count");
        assertThat(json.get("kind")).as("kind").isEqualTo("direct");
        assertThat(json.get("title")).as("title").isNull();
        assertThat(json.get("member_ids")).as("member_ids, ascending").isEqualTo(List.of((int) Math.min(ann, bob),
                (int) Math.max(ann, bob)));
        assertThat(json.get("last_message")).as("last_message of a new conversation").isNull();
        assertThat(json.get("status")).as("status").isEqualTo("active");
        assertThat((String) json.get("inserted_at")).as("inserted_at, ISO-8601 UTC with ms")
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(Instant.parse((String) json.get("inserted_at"))).as("inserted_at is now").isAfter(before);
    }

    @Test
    void unknownRecipientIs422DoesNotExistAndNothingIsStored() {
        long ann = chat.newUser("Ann");

        expectFieldErrors(start(ann, UNKNOWN_USER), Map.of("recipient_id", DOES_NOT_EXIST), "unknown recipient");
        expectFieldErrors(start(ann, 0), Map.of("recipient_id", DOES_NOT_EXIST), "recipient 0");
        expectFieldErrors(start(ann, -4), Map.of("recipient_id", DOES_NOT_EXIST), "negative recipient");
        assertThat(chat.queryLong("SELECT count(*) FROM conversations WHERE sender_id = ?", ann))
                .as("conversations stored for Ann").isZero();
    }

    @Test
    void conversationWithOneselfIs422() {
        long ann = chat.newUser("Ann");

        Response response = start(ann, ann);

        expectStatus(response, 422, "conversation with oneself");
        assertThat(response.jsonPath().getList("errors.recipient_id")).as("recipient_id errors (one of API.md's messages)")
                .containsExactly("is invalid");
        assertThat(chat.countConversationsOfPair(ann, ann)).as("conversations stored").isZero();
    }

    @Test
    void missingOrNullRecipientIs422CantBeBlank() {
        long ann = chat.newUser("Ann");

        expectFieldErrors(chat.as(ann).body("{}").post(CONVERSATIONS), Map.of("recipient_id", BLANK), "{}");
        expectFieldErrors(chat.as(ann).body("{\"recipient_id\": null}").post(CONVERSATIONS),
                Map.of("recipient_id", BLANK), "null recipient");
        expectFieldErrors(chat.as(ann).post(CONVERSATIONS), Map.of("recipient_id", BLANK), "no body");
    }

    @Test
    void recipientThatIsNotAnIntegerIs400() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");

        for (String body : List.of("{\"recipient_id\": \"" + bob + "\"}", "{\"recipient_id\": " + bob + ".5}",
                "{\"recipient_id\": true}", "{\"recipient_id\": [" + bob + "]}", "{\"recipient_id\": 99999999999999999999}",
                "{\"recipient_id\": " + bob, "[]")) {
            expectMessage(chat.as(ann).body(body).post(CONVERSATIONS), 400, body);
        }
        assertThat(chat.countConversationsOfPair(ann, bob)).as("conversations stored").isZero();
    }

    @Test
    void twoSimultaneousStartsForTheSamePairEndInOneConversationForBoth() throws Exception {
        for (int round = 0; round < RACE_ROUNDS; round++) {
            long ann = chat.newUser("Ann");
            long bob = chat.newUser("Bob");
            // Both requests wait for user-service together, so both pass the lookup before either inserts.
            userService.answerTogether(2);
            boolean bothWays = round % 2 == 0;

            List<Response> responses = Parallel.run(() -> start(ann, bob), () -> bothWays ? start(bob, ann) : start(ann, bob));

            List<Integer> statuses = responses.stream().map(Response::statusCode).sorted().toList();
            assertThat(statuses).as("round %d (%s): statuses, bodies %s", round, bothWays ? "both ways" : "same way",
                    responses.stream().map(Response::asString).toList()).containsExactly(200, 201);
            assertThat(responses.stream().map(r -> r.jsonPath().getLong("id")).distinct().count())
                    .as("round %d: both callers get the same conversation", round).isEqualTo(1);
            assertThat(chat.countConversationsOfPair(ann, bob)).as("round %d: conversations stored", round).isEqualTo(1);
        }
    }

    @Test
    void listIsTheCallersConversationsMostRecentActivityFirst() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");
        long cid = chat.newUser("Cid");
        long dan = chat.newUser("Dan");
        long withBob = chat.conversation(ann, bob);
        long withCid = chat.conversation(cid, ann);
        long withDan = chat.conversation(ann, dan);
        long notAnns = chat.conversation(bob, cid);

        assertThat(listIds(ann)).as("newest conversation first when nothing was said").containsExactly(withDan, withCid, withBob);

        chat.post(bob, withBob, "hello Ann");
        assertThat(listIds(ann)).as("a message moves its conversation to the top").containsExactly(withBob, withDan, withCid);

        chat.post(ann, withCid, "hi Cid");
        assertThat(listIds(ann)).as("after Ann writes to Cid").containsExactly(withCid, withBob, withDan);
        assertThat(listIds(bob)).as("Bob's list: his message to Ann came after his conversation with Cid")
                .containsExactly(withBob, notAnns);
        assertThat(listIds(chat.newUser("Eve"))).as("a user without conversations").isEmpty();
    }

    @Test
    void everyRouteWithoutAValidTokenOrWithANonNumericSubjectIs401() {
        String path = Chat.messagesOf(1);
        List<Response> responses = List.of(
                given().contentType(ContentType.JSON).body("{\"recipient_id\": 1}").post(CONVERSATIONS),
                given().get(CONVERSATIONS),
                given().get(path),
                given().contentType(ContentType.JSON).body("{\"content\": \"hi\"}").post(path),
                given().auth().oauth2(tokens.expiredTokenFor(1, "a@example.com")).get(CONVERSATIONS),
                given().auth().oauth2(TestTokens.unsignedTokenFor(1, "a@example.com")).get(path),
                given().auth().oauth2(tokens.sign(tokens.claims(1, "a@example.com").subject("ann"))).get(CONVERSATIONS));
        for (Response response : responses) {
            expectMessage(response, 401, "request without a valid token");
        }
    }

    @Test
    void userServiceIsAskedWithTheServiceCredential() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");
        int before = userService.presentedTokens().size();

        expectStatus(start(ann, bob), 201, "start");

        assertThat(userService.presentedTokens().subList(before, userService.presentedTokens().size()))
                .as("X-Service-Token values seen by user-service").containsExactly(UserServiceDouble.SERVICE_TOKEN);
    }

    @Test
    void userServiceDownIs503WithRetryAfterAndStartsWorkAgainOnceItIsBack() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");
        long cid = chat.newUser("Cid");
        long existing = chat.conversation(ann, cid);

        userService.goDown();
        try {
            Response down = start(ann, bob);
            expectMessage(down, 503, "start while user-service is down");
            assertThat(down.header("Retry-After")).as("Retry-After").isNotBlank();
            assertThat(start(cid, ann).jsonPath().getLong("id"))
                    .as("an existing pair is answered without user-service").isEqualTo(existing);
        } finally {
            userService.comeBack();
        }

        Instant deadline = Instant.now().plus(USER_SERVICE_RECOVERY);
        Response response = start(ann, bob);
        while (response.statusCode() == 503 && Instant.now().isBefore(deadline)) {
            sleep(250);
            response = start(ann, bob);
        }
        expectStatus(response, 201, "start once user-service is back");
    }

    @Test
    void slowUserServiceIs503WithinTheTimeout() {
        long ann = chat.newUser("Ann");
        long bob = chat.newUser("Bob");
        userService.answerAfter(Duration.ofSeconds(6));

        long started = System.nanoTime();
        Response response = start(ann, bob);
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        expectMessage(response, 503, "start while user-service hangs");
        assertThat(took).as("time to give up on user-service").isLessThan(Duration.ofSeconds(5));
        assertThat(chat.countConversationsOfPair(ann, bob)).as("conversations stored").isZero();
    }

    private Response start(long callerId, long recipientId) {
        return chat.as(callerId).body(Map.of("recipient_id", recipientId)).when().post(CONVERSATIONS);
    }

    private List<Long> listIds(long userId) {
        Response response = expectStatus(chat.as(userId).get(CONVERSATIONS), 200, "list");
        return response.jsonPath().getList("data.id", Long.class);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
