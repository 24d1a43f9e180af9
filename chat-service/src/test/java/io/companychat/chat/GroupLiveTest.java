package io.companychat.chat;

import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
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

/**
 * Groups on the chat socket: messages to every member's connections, the {@code conversation}
 * and {@code conversation_removed} pushes, catch-up, and nothing for someone who is no member.
 * "Nothing arrives" is checked with a sentinel: a later direct message to the same socket, which
 * arrives after anything sent before it.
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class GroupLiveTest {

    private static final String RECEIVE_MSG = "receive_msg";
    private static final String CONVERSATION = "conversation";
    private static final String REMOVED = "conversation_removed";

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
    private long sentinelSender;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        cid = chat.newUser("Cid");
        eve = chat.newUser("Eve");
        sentinelSender = chat.newUser("Sentinel");
    }

    @Test
    void sendMsgToAGroupReachesEveryConnectionOfEveryMemberButTheSendingOne() {
        long group = chat.group(ann, "Team", bob, cid);
        try (PhoenixTestSocket annPhone = joined(ann); PhoenixTestSocket annLaptop = joined(ann);
                PhoenixTestSocket bobSocket = joined(bob); PhoenixTestSocket cidSocket = joined(cid);
                PhoenixTestSocket eveSocket = joined(eve)) {
            JsonNode reply = annPhone.awaitReply(annPhone.push("room:chat", "send_msg", Map.of("conv", group, "message", "hi all")));
            assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
            JsonNode message = reply.at("/response/message");
            assertThat(chat.countMessages(group)).as("stored when the reply came").isEqualTo(1);

            for (PhoenixTestSocket socket : List.of(annLaptop, bobSocket, cidSocket)) {
                assertThat(socket.awaitPush(RECEIVE_MSG, PhoenixTestSocket.WAIT).get("message")).isEqualTo(message);
            }
            assertThat(chat.pushesBeforeSentinel(annPhone, ann, RECEIVE_MSG)).as("the sending socket gets the reply only").isEmpty();
            assertNothingBeforeSentinel(eveSocket, eve, "an outsider");
        }
    }

    @Test
    void aRestPostToAGroupReachesAllOfThePostersConnections() {
        long group = chat.group(ann, "Team", bob);
        try (PhoenixTestSocket annPhone = joined(ann); PhoenixTestSocket annLaptop = joined(ann);
                PhoenixTestSocket bobSocket = joined(bob)) {
            long id = chat.post(ann, group, "over REST");
            for (PhoenixTestSocket socket : List.of(annPhone, annLaptop, bobSocket)) {
                assertThat(socket.awaitPush(RECEIVE_MSG, PhoenixTestSocket.WAIT).at("/message/id").asLong()).isEqualTo(id);
            }
        }
    }

    @Test
    void sendMsgNamingAUserInAGroupIsRefusedAndStoresNothing() {
        long group = chat.group(ann, "Team", bob);
        try (PhoenixTestSocket annSocket = joined(ann); PhoenixTestSocket eveSocket = joined(eve)) {
            for (long user : List.of(bob, ann, eve)) {
                JsonNode reply = annSocket.awaitReply(annSocket.push("room:chat", "send_msg",
                        Map.of("conv", group, "user", user, "message", "to one of you")));
                assertThat(reply.get("status").asText()).as("user %d given: %s", user, reply).isEqualTo("error");
                assertThat(reply.at("/response/errors/user").isArray()).as(reply.toString()).isTrue();
            }
            JsonNode outsider = eveSocket.awaitReply(eveSocket.push("room:chat", "send_msg", Map.of("conv", group,
                    "message", "let me in")));
            assertThat(outsider.at("/response/reason").asText()).isEqualTo("conversation not found");
        }
        assertThat(chat.countMessages(group)).isZero();
    }

    @Test
    void creatingRenamingAddingAndRemovingArePushedToTheMembers() {
        long dan = chat.newUser("Dan");
        try (PhoenixTestSocket annSocket = joined(ann); PhoenixTestSocket bobSocket = joined(bob);
                PhoenixTestSocket cidSocket = joined(cid); PhoenixTestSocket danSocket = joined(dan)) {
            long group = chat.group(ann, "Team", bob, cid);
            for (PhoenixTestSocket socket : List.of(annSocket, bobSocket, cidSocket)) {
                JsonNode pushed = socket.awaitPush(CONVERSATION, PhoenixTestSocket.WAIT).get("conversation");
                assertThat(pushed.get("id").asLong()).isEqualTo(group);
                assertThat(pushed.get("kind").asText()).isEqualTo("group");
                assertThat(pushed.get("title").asText()).isEqualTo("Team");
                assertThat(pushed.get("sender_id").asLong()).isEqualTo(ann);
                assertThat(ids(pushed.get("member_ids"))).containsExactlyElementsOf(sorted(ann, bob, cid));
            }

            expectStatus(chat.as(bob).body(Map.of("title", "Renamed")).patch(Chat.conversationOf(group)), 200, "rename");
            for (PhoenixTestSocket socket : List.of(annSocket, bobSocket, cidSocket)) {
                assertThat(socket.awaitPush(CONVERSATION, PhoenixTestSocket.WAIT).at("/conversation/title").asText())
                        .isEqualTo("Renamed");
            }

            chat.addMember(cid, group, dan);
            for (PhoenixTestSocket socket : List.of(annSocket, bobSocket, cidSocket, danSocket)) {
                JsonNode pushed = socket.awaitPush(CONVERSATION, PhoenixTestSocket.WAIT).get("conversation");
                assertThat(ids(pushed.get("member_ids"))).as("members after Dan joined")
                        .containsExactlyElementsOf(sorted(ann, bob, cid, dan));
            }

            chat.removeMember(ann, group, cid);
            assertThat(cidSocket.awaitPush(REMOVED, PhoenixTestSocket.WAIT).get("conversation_id").asLong()).isEqualTo(group);
            for (PhoenixTestSocket socket : List.of(annSocket, bobSocket, danSocket)) {
                JsonNode pushed = socket.awaitPush(CONVERSATION, PhoenixTestSocket.WAIT).get("conversation");
                assertThat(ids(pushed.get("member_ids"))).containsExactlyElementsOf(sorted(ann, bob, dan));
            }

            chat.removeMember(bob, group, bob);
            assertThat(bobSocket.awaitPush(REMOVED, PhoenixTestSocket.WAIT).get("conversation_id").asLong()).isEqualTo(group);
            for (PhoenixTestSocket socket : List.of(annSocket, danSocket)) {
                assertThat(ids(socket.awaitPush(CONVERSATION, PhoenixTestSocket.WAIT).at("/conversation/member_ids")))
                        .containsExactlyElementsOf(sorted(ann, dan));
            }
            assertThat(chat.pushesBeforeSentinel(cidSocket, cid, CONVERSATION)).as("a former member hears nothing more").isEmpty();
        }
    }

    @Test
    void aRemovedMemberGetsNoMessagesAndAReaddedOneGetsThemAgain() {
        long group = chat.group(ann, "Team", bob, cid);
        try (PhoenixTestSocket cidSocket = joined(cid); PhoenixTestSocket annSocket = joined(ann)) {
            chat.removeMember(ann, group, cid);
            cidSocket.awaitPush(REMOVED, PhoenixTestSocket.WAIT);
            sendOk(annSocket, group, "after Cid left");
            chat.post(bob, group, "over REST after Cid left");
            assertNothingBeforeSentinel(cidSocket, cid, "a removed member");

            chat.addMember(ann, group, cid);
            cidSocket.awaitPush(CONVERSATION, PhoenixTestSocket.WAIT);
            JsonNode back = sendOk(annSocket, group, "welcome back");
            assertThat(cidSocket.awaitPush(RECEIVE_MSG, PhoenixTestSocket.WAIT).get("message")).isEqualTo(back);
        }
    }

    /**
     * Ann sends to the group without pause while she removes Cid: Cid's socket gets some of the
     * messages, then {@code conversation_removed}, then nothing of the group (the DELETE answers
     * only once Cid's sockets on this replica have the removal). Every message ok'd after the
     * DELETE answered is one Cid never gets.
     */
    @Test
    void aMemberRemovedWhileMessagesAreSentGetsNothingAfterTheRemoval() throws Exception {
        for (int round = 0; round < 3; round++) {
            long group = chat.group(ann, "Busy " + round, bob, cid);
            try (PhoenixTestSocket cidSocket = joined(cid); PhoenixTestSocket annSocket = joined(ann)) {
                AtomicInteger sent = new AtomicInteger();
                List<Long> okAfterDelete = new ArrayList<>();
                CompletableFuture<Void> removed = new CompletableFuture<>();
                CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                    // On until a few were ok'd after the DELETE answered (on a busy machine 60 could all go before it).
                    for (int i = 0; i < 300 && okAfterDelete.size() < 5; i++) {
                        boolean afterDelete = removed.isDone();
                        JsonNode message = sendOk(annSocket, group, "busy " + i);
                        if (afterDelete) {
                            okAfterDelete.add(message.get("id").asLong());
                        }
                        sent.incrementAndGet();
                    }
                });
                await().atMost(PhoenixTestSocket.WAIT).until(() -> sent.get() >= 15 || sender.isDone());
                chat.removeMember(ann, group, cid);
                removed.complete(null);
                sender.get(30, TimeUnit.SECONDS);

                List<Long> received = new ArrayList<>();
                while (true) {
                    JsonNode frame = cidSocket.await(PhoenixTestSocket::isPushButPresence, PhoenixTestSocket.WAIT, "push");
                    String event = frame.path(3).asText();
                    if (REMOVED.equals(event)) {
                        break;
                    }
                    assertThat(event).as("round %d: pushes before the removal", round).isEqualTo(RECEIVE_MSG);
                    received.add(frame.at("/4/message/id").asLong());
                }
                assertThat(received).as("round %d: what Cid got, all sent before the DELETE answered", round)
                        .doesNotContainAnyElementsOf(okAfterDelete);
                assertNothingBeforeSentinel(cidSocket, cid, "round " + round + ": Cid after the removal");
                assertThat(okAfterDelete).as("round %d: messages ok'd after the DELETE (the race happened)", round).isNotEmpty();
            }
        }
    }

    @Test
    void joinWithSinceReplaysGroupsAndDirectConversationsOfCurrentMembershipOnly() {
        long group = chat.group(bob, "Team", ann, cid);
        long left = chat.group(cid, "Left", ann);
        long direct = chat.conversation(ann, bob);
        long since = chat.post(bob, group, "seen");
        List<Long> missed = new ArrayList<>();
        missed.add(chat.post(cid, group, "group 1"));
        missed.add(chat.post(bob, direct, "direct 1"));
        long inLeft = chat.post(cid, left, "in the group Ann leaves");
        missed.add(chat.post(ann, group, "group 2"));
        chat.removeMember(ann, left, ann);
        chat.post(cid, left, "after Ann left");
        missed.add(chat.post(bob, direct, "direct 2"));

        try (PhoenixTestSocket socket = PhoenixTestSocket.connect(ws(), chat.tokenFor(ann))) {
            assertThat(socket.joinChat(Map.of("since", since)).get("status").asText()).isEqualTo("ok");
            List<Long> replayed = new ArrayList<>();
            for (int i = 0; i < missed.size(); i++) {
                replayed.add(socket.awaitPush(RECEIVE_MSG, PhoenixTestSocket.WAIT).at("/message/id").asLong());
            }
            assertThat(replayed).as("replayed, oldest first; nothing of the group Ann left (%d)", inLeft)
                    .containsExactlyElementsOf(missed);
            assertNothingBeforeSentinel(socket, ann, "after the replay");
        }
    }

    private JsonNode sendOk(PhoenixTestSocket socket, long conversation, String text) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", text)));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
        return reply.at("/response/message");
    }

    /**
     * Posts a direct message to the user and asserts that the next push the socket gets is that
     * one: whatever else was on its way to the socket would have come first.
     */
    private void assertNothingBeforeSentinel(PhoenixTestSocket socket, long userId, String what) {
        long direct = chat.conversation(sentinelSender, userId);
        long sentinel = chat.post(sentinelSender, direct, "sentinel");
        JsonNode next = socket.await(PhoenixTestSocket::isPushButPresence, PhoenixTestSocket.WAIT, "the sentinel");
        assertThat(next.path(3).asText() + " " + next.at("/4/message/id").asLong()).as("%s: next push", what)
                .isEqualTo(RECEIVE_MSG + " " + sentinel);
    }

    private PhoenixTestSocket joined(long user) {
        PhoenixTestSocket socket = PhoenixTestSocket.connect(ws(), chat.tokenFor(user));
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket;
    }

    private String ws() {
        return "ws://" + root.getHost() + ":" + root.getPort();
    }

    private static List<Long> ids(JsonNode array) {
        List<Long> ids = new ArrayList<>();
        array.forEach(id -> ids.add(id.asLong()));
        return ids;
    }

    private static List<Long> sorted(long... ids) {
        return LongStream.of(ids).sorted().boxed().toList();
    }
}
