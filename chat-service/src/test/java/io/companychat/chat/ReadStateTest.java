package io.companychat.chat;

import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.Parallel;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.notify.PgNotifications;
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
 * Read state (API.md Part 2, "Read state, unread counts and receipts") and typing ("Typing"),
 * through REST and the chat socket: markers only move forward, sending moves one's own, unread
 * counts and last messages in every conversation JSON a member gets, the {@code read} and
 * {@code typing} pushes and who gets them, the 2-second typing throttle, and 404s for outsiders.
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class ReadStateTest {

    /** chat-service's {@code quarkus.application.name}: its replicas' LISTEN connections are named after it. */
    private static final String APPLICATION_NAME = "chat-service";


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
    private long cid;
    private long eve;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        cid = chat.newUser("Cid");
        eve = chat.newUser("Eve");
    }

    @Test
    void aMarkerMovesForwardOnlyAndEveryMemberSeesEveryMarker() {
        long group = chat.group(ann, "Team", bob, cid);
        assertThat(markers(bob, group)).as("nobody has read anything")
                .containsExactlyEntriesOf(ordered(ann, null, bob, null, cid, null));

        long first = chat.post(ann, group, "one");
        long second = chat.post(ann, group, "two");
        long third = chat.post(ann, group, "three");

        expectStatus(markRead(bob, group, second), 204, "Bob reads up to the second");
        assertThat(markers(cid, group)).as("Ann's marker is her own newest message; Bob's the one he read")
                .containsExactlyEntriesOf(ordered(ann, third, bob, second, cid, null));

        expectStatus(markRead(bob, group, first), 204, "an older message is no error");
        assertThat(markers(ann, group).get(bob)).as("an older message leaves the marker").isEqualTo(second);
        expectStatus(markRead(bob, group, third), 204, "forward again");
        assertThat(markers(ann, group).get(bob)).isEqualTo(third);
    }

    /**
     * A long unread range is counted with message tallies once a member has been shown it (V7,
     * {@code UnreadTallies}): the counts must stay exact wherever the marker sits against the tallies
     * (before the first, on one, between two, after the last), with deleted messages and messages
     * newer than the last tally.
     */
    @Test
    void longUnreadRangesStayExactOnceTalliesCoverThem() {
        long direct = chat.conversation(ann, bob);
        List<Long> ids = chat.newMessages(direct, 1300, bob);
        assertThat(conversation(ann, direct).get("unread_count").asLong()).as("counted as it is").isEqualTo(1300);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(conversation(ann, direct).get("unread_count").asLong()).isEqualTo(1300);
            assertThat(chat.queryLong("SELECT count(*) FROM message_tallies WHERE conversation_id = ?", direct))
                    .as("a tally at every 256th message of the 1,300").isEqualTo(5);
        });
        assertThat(chat.queryLong("SELECT max(position) FROM message_tallies WHERE conversation_id = ?", direct)).isEqualTo(1280);

        chat.newMessages(direct, 40, bob);
        expectStatus(chat.as(bob).delete(Chat.messagesOf(direct) + "/" + ids.get(600)), 204, "deleted between two tallies");
        expectStatus(chat.as(bob).delete(Chat.messagesOf(direct) + "/" + ids.get(1299)), 204, "deleted after the last");
        assertThat(conversation(ann, direct).get("unread_count").asLong()).as("1,300 + 40 newer - 2 deleted")
                .isEqualTo(1338);

        // Cid's view, marker by marker: a group of the same shape, where Cid never writes.
        long group = chat.group(ann, "Long", cid);
        List<Long> groupIds = chat.newMessages(group, 1300, ann);
        long total = 1300;
        assertThat(conversation(cid, group).get("unread_count").asLong()).isEqualTo(total);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            conversation(cid, group);
            assertThat(chat.queryLong("SELECT count(*) FROM message_tallies WHERE conversation_id = ?", group)).isEqualTo(5);
        });
        chat.newMessages(group, 30, ann);
        total += 30;
        expectStatus(chat.as(ann).delete(Chat.messagesOf(group) + "/" + groupIds.get(900)), 204, "deleted between two tallies");
        long deletedAfter = 1;
        for (int read : List.of(0, 254, 255, 256, 511, 700, 900, 1023, 1279, 1280, 1299)) {
            expectStatus(markRead(cid, group, groupIds.get(read)), 204, "Cid reads up to message " + read);
            if (read >= 900) {
                deletedAfter = 0;
            }
            long expected = total - (read + 1) - deletedAfter;
            assertThat(conversation(cid, group).get("unread_count").asLong()).as("Cid has read %d", read + 1)
                    .isEqualTo(expected);
            Map<Long, JsonNode> listed = list(cid);
            assertThat(listed.get(group).get("unread_count").asLong()).as("the list, Cid has read %d", read + 1)
                    .isEqualTo(expected);
        }
    }

    @Test
    void markingAMessageOfAnotherConversationOrNoneAtAllIs422() {
        long group = chat.group(ann, "Team", bob);
        long direct = chat.conversation(ann, bob);
        long elsewhere = chat.post(ann, direct, "in the direct conversation");
        chat.post(ann, group, "in the group");

        for (Object wrong : List.of(elsewhere, Long.MAX_VALUE, 0)) {
            Response response = markRead(bob, group, wrong);
            expectStatus(response, 422, "message " + wrong);
            assertThat(response.jsonPath().getList("errors.message_id")).as("message %s", wrong).containsExactly("does not exist");
        }
        Response missing = chat.as(bob).body(Map.of()).post(readOf(group));
        expectStatus(missing, 422, "no message_id");
        assertThat(missing.jsonPath().getList("errors.message_id")).containsExactly("can't be blank");
        assertThat(markers(ann, group).get(bob)).as("nothing moved").isNull();
    }

    @Test
    void outsidersGet404OnBothRoutesAndMoveNothing() {
        long group = chat.group(ann, "Team", bob);
        long id = chat.post(ann, group, "private");
        expectStatus(markRead(eve, group, id), 404, "an outsider marks");
        expectStatus(chat.as(eve).get(readsOf(group)), 404, "an outsider reads the markers");
        expectStatus(markRead(eve, Long.MAX_VALUE, id), 404, "no such conversation");
        expectStatus(markRead(eve, group, Long.MAX_VALUE), 404, "an outsider with a wrong message still gets 404");

        chat.removeMember(bob, group, bob);
        expectStatus(markRead(bob, group, id), 404, "a member who left");
        expectStatus(chat.as(bob).get(readsOf(group)), 404, "a member who left reads the markers");
        assertThat(chat.queryLong("SELECT count(*) FROM conversation_members WHERE conversation_id = ? "
                + "AND last_read_id IS NOT NULL", group)).isZero();
    }

    @Test
    void unreadCountsLastMessageAndMarkerAreInEveryConversationJsonAMemberGets() {
        long group = chat.group(ann, "Team", bob, cid);
        long direct = chat.conversation(bob, ann);
        JsonNode created = chat.as(ann).body(Map.of("title", "Fresh", "member_ids", List.of(bob))).post(Chat.CONVERSATIONS)
                .then().statusCode(201).extract().as(JsonNode.class);
        assertThat(created.has("last_read_id") && created.get("last_read_id").isNull()).as(created.toString()).isTrue();
        assertThat(created.get("unread_count").asLong()).isZero();
        assertThat(created.get("last_message").isNull()).isTrue();

        chat.post(ann, group, "a");
        long b = chat.post(cid, group, "b");
        long c = chat.post(ann, group, "c");
        chat.post(ann, direct, "direct");

        JsonNode bobsGroup = conversation(bob, group);
        assertThat(bobsGroup.get("unread_count").asLong()).as("Bob has read nothing").isEqualTo(3);
        assertThat(bobsGroup.get("last_read_id").isNull()).isTrue();
        assertThat(bobsGroup.at("/last_message/id").asLong()).isEqualTo(c);

        JsonNode cidsGroup = conversation(cid, group);
        assertThat(cidsGroup.get("last_read_id").asLong()).as("sending moved Cid's marker to b").isEqualTo(b);
        assertThat(cidsGroup.get("unread_count").asLong()).as("only Ann's c is newer").isEqualTo(1);
        assertThat(conversation(ann, group).get("unread_count").asLong()).as("own messages are never unread").isZero();

        expectStatus(markRead(bob, group, b), 204, "Bob reads up to b");
        Map<Long, JsonNode> bobsList = list(bob);
        assertThat(bobsList.get(group).get("unread_count").asLong()).isEqualTo(1);
        assertThat(bobsList.get(group).get("last_read_id").asLong()).isEqualTo(b);
        assertThat(bobsList.get(direct).get("unread_count").asLong()).isEqualTo(1);
        assertThat(bobsList.get(direct).at("/last_message/content").asText()).isEqualTo("direct");

        JsonNode renamed = chat.as(bob).body(Map.of("title", "Renamed")).patch(Chat.conversationOf(group))
                .then().statusCode(200).extract().as(JsonNode.class);
        assertThat(renamed.get("unread_count").asLong()).as("the rename's answer is Bob's").isEqualTo(1);
        assertThat(renamed.get("last_read_id").asLong()).isEqualTo(b);
        JsonNode added = chat.as(bob).body(Map.of("user_id", eve)).post(Chat.membersOf(group))
                .then().statusCode(200).extract().as(JsonNode.class);
        assertThat(added.get("unread_count").asLong()).isEqualTo(1);
        assertThat(conversation(eve, group).get("unread_count").asLong()).as("a new member: the history is unread").isEqualTo(3);
    }

    @Test
    void theReadPushReachesEveryMembersConnectionsButTheOneThatMarked() {
        long group = chat.group(ann, "Team", bob, cid);
        try (PhoenixTestSocket bobPhone = joined(bob); PhoenixTestSocket bobLaptop = joined(bob);
                PhoenixTestSocket annSocket = joined(ann); PhoenixTestSocket cidSocket = joined(cid);
                PhoenixTestSocket eveSocket = joined(eve)) {
            long id = chat.post(ann, group, "read me");
            for (PhoenixTestSocket socket : List.of(bobPhone, bobLaptop, cidSocket)) {
                socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT);
            }
            assertThat(chat.pushesBeforeSentinel(annSocket, ann, "read")).as("sending is not announced as a read").isEmpty();

            JsonNode reply = bobPhone.awaitReply(bobPhone.push("room:chat", "mark_read", Map.of("conv", group, "message_id", id)));
            assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
            for (PhoenixTestSocket socket : List.of(bobLaptop, annSocket, cidSocket)) {
                JsonNode read = socket.awaitPush("read", PhoenixTestSocket.WAIT);
                assertThat(read.get("conversation_id").asLong()).isEqualTo(group);
                assertThat(read.get("user_id").asLong()).isEqualTo(bob);
                assertThat(read.get("message_id").asLong()).isEqualTo(id);
            }
            assertThat(chat.pushesBeforeSentinel(bobPhone, bob, "read")).as("not to the connection that marked").isEmpty();
            assertThat(eveSocket.receivesPush("read", Duration.ofMillis(100))).as("an outsider").isFalse();

            JsonNode again = bobPhone.awaitReply(bobPhone.push("room:chat", "mark_read", Map.of("conv", group, "message_id", id)));
            assertThat(again.get("status").asText()).isEqualTo("ok");
            expectStatus(markRead(cid, group, id), 204, "Cid over REST");
            JsonNode next = annSocket.awaitPush("read", PhoenixTestSocket.WAIT);
            assertThat(next.get("user_id").asLong()).as("a marker that did not move is not announced").isEqualTo(cid);
            assertThat(bobPhone.awaitPush("read", PhoenixTestSocket.WAIT).get("user_id").asLong())
                    .as("a REST mark reaches every connection").isEqualTo(cid);
        }
    }

    @Test
    void markReadOnTheSocketRefusesOutsidersAndForeignMessages() {
        long group = chat.group(ann, "Team", bob);
        long direct = chat.conversation(ann, cid);
        long foreign = chat.post(ann, direct, "not the group's");
        long id = chat.post(ann, group, "the group's");
        try (PhoenixTestSocket bobSocket = joined(bob); PhoenixTestSocket eveSocket = joined(eve)) {
            JsonNode outsider = eveSocket.awaitReply(eveSocket.push("room:chat", "mark_read", Map.of("conv", group, "message_id", id)));
            assertThat(outsider.get("status").asText()).isEqualTo("error");
            assertThat(outsider.at("/response/reason").asText()).isEqualTo("conversation not found");

            JsonNode wrong = bobSocket.awaitReply(bobSocket.push("room:chat", "mark_read", Map.of("conv", group, "message_id", foreign)));
            assertThat(wrong.get("status").asText()).as(wrong.toString()).isEqualTo("error");
            assertThat(wrong.at("/response/errors/message_id/0").asText()).isEqualTo("does not exist");

            for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("conv", group), Map.of("message_id", id),
                    Map.of("conv", "x", "message_id", id), Map.of("conv", group, "message_id", -1))) {
                JsonNode refused = bobSocket.awaitReply(bobSocket.push("room:chat", "mark_read", bad));
                assertThat(refused.get("status").asText()).as(bad.toString()).isEqualTo("error");
            }
        }
        assertThat(markers(ann, group).get(bob)).isNull();
    }

    /**
     * Two devices mark at once, in random order, while a third client watches: the marker only
     * ever moves forward, and ends at the newest message marked.
     */
    @Test
    void concurrentMarksFromTwoDevicesNeverMoveTheMarkerBackwards() throws Exception {
        long group = chat.group(ann, "Team", bob);
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ids.add(chat.post(ann, group, "m" + i));
        }
        List<Long> shuffled = new ArrayList<>(ids);
        Collections.shuffle(shuffled);
        List<Long> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean marking = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (PhoenixTestSocket phone = joined(bob)) {
            CompletableFuture<Void> watcher = CompletableFuture.runAsync(() -> {
                while (marking.get()) {
                    Long marker = markers(ann, group).get(bob);
                    if (marker != null) {
                        seen.add(marker);
                    }
                }
            }, pool);
            CompletableFuture<Void> viaRest = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < shuffled.size(); i += 2) {
                    expectStatus(markRead(bob, group, shuffled.get(i)), 204, "REST mark");
                }
            }, pool);
            CompletableFuture<Void> viaSocket = CompletableFuture.runAsync(() -> {
                for (int i = 1; i < shuffled.size(); i += 2) {
                    JsonNode reply = phone.awaitReply(phone.push("room:chat", "mark_read",
                            Map.of("conv", group, "message_id", shuffled.get(i))));
                    assertThat(reply.get("status").asText()).isEqualTo("ok");
                }
            }, pool);
            CompletableFuture.allOf(viaRest, viaSocket).get();
            marking.set(false);
            watcher.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(markers(ann, group).get(bob)).isEqualTo(ids.get(ids.size() - 1));
        assertThat(seen).as("markers as other members saw them").isSorted();
    }

    /**
     * Marks that arrive together are written together (one statement per batch, like messages):
     * each is still answered on its own (204, 422 for a message of another conversation, 404 for an
     * outsider), and each marker ends at the newest message its owner marked.
     */
    @Test
    void marksWrittenTogetherAreEachAnsweredOnTheirOwn() throws Exception {
        long group = chat.group(ann, "Team", bob, cid);
        List<Long> ids = chat.newMessages(group, 10, ann);
        long elsewhere = chat.post(ann, chat.conversation(ann, eve), "elsewhere");
        List<Supplier<Integer>> requests = new ArrayList<>();
        List<Integer> expected = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            requests.add(() -> markRead(bob, group, ids.get(3)).statusCode());
            requests.add(() -> markRead(bob, group, ids.get(7)).statusCode());
            requests.add(() -> markRead(cid, group, ids.get(5)).statusCode());
            requests.add(() -> markRead(cid, group, elsewhere).statusCode());
            requests.add(() -> markRead(eve, group, ids.get(2)).statusCode());
            expected.addAll(List.of(204, 204, 204, 422, 404));
        }
        assertThat(Parallel.run(requests)).containsExactlyElementsOf(expected);
        assertThat(markers(ann, group)).containsExactlyEntriesOf(ordered(ann, ids.get(9), bob, ids.get(7), cid, ids.get(5)));
    }

    @Test
    void typingReachesTheOtherMembersOnlyAndAtMostOnceEveryTwoSeconds() {
        long group = chat.group(ann, "Team", bob, cid);
        try (PhoenixTestSocket annPhone = joined(ann); PhoenixTestSocket annLaptop = joined(ann);
                PhoenixTestSocket bobSocket = joined(bob); PhoenixTestSocket cidSocket = joined(cid);
                PhoenixTestSocket eveSocket = joined(eve)) {
            assertTypingOk(annPhone, group);
            for (PhoenixTestSocket socket : List.of(bobSocket, cidSocket)) {
                JsonNode typing = socket.awaitPush("typing", PhoenixTestSocket.WAIT);
                assertThat(typing.get("conversation_id").asLong()).isEqualTo(group);
                assertThat(typing.get("user_id").asLong()).isEqualTo(ann);
            }
            // Within the 2 seconds: answered ok, never forwarded, not even later.
            assertTypingOk(annLaptop, group);
            assertTypingOk(annPhone, group);
            assertThat(bobSocket.receivesPush("typing", Duration.ofMillis(2200))).as("held back and dropped").isFalse();
            assertThat(annLaptop.receivesPush("typing", Duration.ofMillis(100))).as("not the typist's own connections").isFalse();
            assertThat(eveSocket.receivesPush("typing", Duration.ofMillis(100))).as("an outsider").isFalse();

            assertTypingOk(annLaptop, group);
            assertThat(bobSocket.awaitPush("typing", PhoenixTestSocket.WAIT).get("user_id").asLong())
                    .as("two seconds later it is forwarded again").isEqualTo(ann);
            assertTypingOk(bobSocket, group);
            assertThat(annPhone.awaitPush("typing", PhoenixTestSocket.WAIT).get("user_id").asLong())
                    .as("the throttle is per user").isEqualTo(bob);
        }
    }

    @Test
    void typingIsRefusedToOutsidersAndFormerMembersAndNothingIsStored() {
        long group = chat.group(ann, "Team", bob, cid);
        try (PhoenixTestSocket eveSocket = joined(eve); PhoenixTestSocket cidSocket = joined(cid);
                PhoenixTestSocket annSocket = joined(ann)) {
            JsonNode outsider = eveSocket.awaitReply(eveSocket.push("room:chat", "typing", Map.of("conv", group)));
            assertThat(outsider.get("status").asText()).isEqualTo("error");
            assertThat(outsider.at("/response/reason").asText()).isEqualTo("conversation not found");

            assertTypingOk(cidSocket, group); // the members are known to this replica now
            annSocket.awaitPush("typing", PhoenixTestSocket.WAIT);
            chat.removeMember(ann, group, cid);
            JsonNode former = cidSocket.awaitReply(cidSocket.push("room:chat", "typing", Map.of("conv", group)));
            assertThat(former.get("status").asText()).as("a removed member, at once").isEqualTo("error");

            chat.addMember(ann, group, eve);
            await().atMost(PhoenixTestSocket.WAIT).untilAsserted(() -> assertThat(eveSocket.awaitReply(
                    eveSocket.push("room:chat", "typing", Map.of("conv", group))).get("status").asText()).isEqualTo("ok"));
            assertThat(annSocket.awaitPush("typing", PhoenixTestSocket.WAIT).get("user_id").asLong()).isEqualTo(eve);

            JsonNode malformed = annSocket.awaitReply(annSocket.push("room:chat", "typing", Map.of("conv", "nope")));
            assertThat(malformed.get("status").asText()).isEqualTo("error");
        }
        assertThat(chat.countMessages(group)).as("typing stores nothing").isZero();
    }

    @Test
    void theLiveConversationPushCarriesNoOnesReadState() {
        try (PhoenixTestSocket bobSocket = joined(bob)) {
            long group = chat.group(ann, "Team", bob);
            JsonNode pushed = bobSocket.awaitPush("conversation", PhoenixTestSocket.WAIT).get("conversation");
            assertThat(pushed.get("id").asLong()).isEqualTo(group);
            assertThat(pushed.has("unread_count")).as(pushed.toString()).isFalse();
            assertThat(pushed.has("last_read_id")).as(pushed.toString()).isFalse();
        }
    }

    /**
     * {@code read} pushes (like every live event) go to the other replicas over {@code NOTIFY chat_message}, but only
     * while another replica listens: alone, this replica sends none (each would come back only to itself). Another
     * replica is played by a connection that LISTENs as chat-service's listener does ({@code application_name}) and says
     * so as a replica's check does; once it leaves, the pushes stop again. An observer LISTENs under another name,
     * which does not count as a replica.
     */
    @Test
    void readPushesAreNotifiedToOtherReplicasOnlyWhileOneListens() throws Exception {
        long group = chat.group(ann, "Team", bob);
        Iterator<Long> next = chat.newMessages(group, 100, ann).iterator();
        try (Connection observer = database.connect()) {
            listen(observer);
            await("no NOTIFY for a read push while this replica is alone").atMost(Duration.ofSeconds(15))
                    .until(() -> !notifiedRead(observer, bob, group, next.next(), Duration.ofMillis(500)));
            assertThat(notifiedRead(observer, bob, group, next.next(), Duration.ofSeconds(2)))
                    .as("a read push while alone, after the replica found itself alone").isFalse();

            try (Connection replica = database.connect(); Statement statement = replica.createStatement()) {
                statement.execute("SET application_name = '" + APPLICATION_NAME + PgNotifications.APPLICATION_NAME_SUFFIX + "'");
                listen(replica);
                statement.execute("SELECT pg_notify('chat_message', 'another-replica 1\n[]')");
                await("a NOTIFY for a read push once another replica listens").atMost(Duration.ofSeconds(10))
                        .until(() -> notifiedRead(observer, bob, group, next.next(), Duration.ofMillis(500)));
                assertThat(notifiedRead(observer, bob, group, next.next(), PhoenixTestSocket.WAIT))
                        .as("every read push while another replica listens").isTrue();
            }
            await("no NOTIFY for a read push once the other replica left").atMost(Duration.ofSeconds(15))
                    .until(() -> !notifiedRead(observer, bob, group, next.next(), Duration.ofMillis(500)));
        }
    }

    private static void listen(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("LISTEN chat_message");
        }
    }

    /** Marks the message read over REST, then waits up to {@code wait} for a notification of that read push. */
    private boolean notifiedRead(Connection observer, long userId, long conversationId, long messageId, Duration wait)
            throws SQLException {
        expectStatus(markRead(userId, conversationId, messageId), 204, "mark");
        long deadline = System.nanoTime() + wait.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0;) {
            PGNotification[] received = observer.unwrap(PGConnection.class).getNotifications((int) Math.max(1, left / 1_000_000));
            for (PGNotification notification : received == null ? new PGNotification[0] : received) {
                if (notification.getParameter().contains("\"type\":\"rd\"")
                        && notification.getParameter().contains("\"message_id\":" + messageId + ",")) {
                    return true;
                }
            }
        }
        return false;
    }

    private void assertTypingOk(PhoenixTestSocket socket, long conversation) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "typing", Map.of("conv", conversation)));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
    }

    private Response markRead(long userId, long conversationId, Object messageId) {
        return chat.as(userId).body(Map.of("message_id", messageId)).post(readOf(conversationId));
    }

    private Map<Long, Long> markers(long userId, long conversationId) {
        Map<Long, Long> markers = new LinkedHashMap<>();
        chat.as(userId).get(readsOf(conversationId)).then().statusCode(200).extract().as(JsonNode.class).get("data")
                .forEach(marker -> markers.put(marker.get("user_id").asLong(),
                        marker.get("message_id").isNull() ? null : marker.get("message_id").asLong()));
        return markers;
    }

    /** The user's list, by conversation id. */
    private Map<Long, JsonNode> list(long userId) {
        Map<Long, JsonNode> byId = new HashMap<>();
        chat.as(userId).get(Chat.CONVERSATIONS).then().statusCode(200).extract().as(JsonNode.class).get("data")
                .forEach(node -> byId.put(node.get("id").asLong(), node));
        return byId;
    }

    private JsonNode conversation(long userId, long conversationId) {
        return chat.as(userId).get(Chat.conversationOf(conversationId)).then().statusCode(200).extract().as(JsonNode.class);
    }

    private static Map<Long, Long> ordered(Object... userAndMarker) {
        Map<Long, Long> expected = new TreeMap<>();
        for (int i = 0; i < userAndMarker.length; i += 2) {
            expected.put((Long) userAndMarker[i], (Long) userAndMarker[i + 1]);
        }
        return expected;
    }

    private static String readOf(long conversationId) {
        return Chat.conversationOf(conversationId) + "/read";
    }

    private static String readsOf(long conversationId) {
        return Chat.conversationOf(conversationId) + "/reads";
    }

    private PhoenixTestSocket joined(long user) {
        PhoenixTestSocket socket = PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(), chat.tokenFor(user));
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket;
    }
}
