package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.system.RunningSystem.TestUser;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

/**
 * Groups across the two chat-service replicas: messages reach every member wherever they are
 * connected, membership pushes cross replicas, and a member removed on one replica gets nothing
 * more on the other. "Nothing more" is checked with a sentinel: a later direct message to the
 * same socket, after which nothing sent earlier can still come.
 */
@ExtendWith(SystemExtension.class)
class GroupsIT {

    private static final String REPLICA_1 = "chat-service";
    private static final String REPLICA_2 = "chat-service-2";

    /** Set by {@link SystemExtension}. */
    private static RunningSystem system;
    private static Member ann;
    private static Member bob;
    private static Member cid;
    private static Member sentinel;

    private record Member(TestUser user, String token) {
        long id() {
            return user.id();
        }
    }

    @BeforeAll
    static void setUp() {
        ann = member("Ann");
        bob = member("Bob");
        cid = member("Cid");
        sentinel = member("Sentinel");
    }

    @Test
    void groupMessagesReachEveryMembersConnectionsOnBothReplicas() {
        long group = createGroup(REPLICA_2, ann, "Both replicas", bob, cid);
        try (PhoenixTestSocket annOn1 = joined(REPLICA_1, ann); PhoenixTestSocket annOn2 = joined(REPLICA_2, ann);
                PhoenixTestSocket bobOn2 = joined(REPLICA_2, bob); PhoenixTestSocket cidOn1 = joined(REPLICA_1, cid)) {
            JsonNode sent = send(annOn1, group, "from replica 1");
            for (PhoenixTestSocket socket : List.of(annOn2, bobOn2, cidOn1)) {
                assertThat(socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(sent);
            }

            JsonNode posted = on(REPLICA_2, bob).body(Map.of("content", "over REST on replica 2"))
                    .post("/api/conversations/" + group + "/messages").then().statusCode(201).extract().as(JsonNode.class);
            for (PhoenixTestSocket socket : List.of(annOn1, annOn2, bobOn2, cidOn1)) {
                assertThat(socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong())
                        .isEqualTo(posted.get("id").asLong());
            }
        }
    }

    @Test
    void membershipPushesCrossReplicasAndARemovedMemberIsRefusedEverywhereAtOnce() {
        try (PhoenixTestSocket annOn1 = joined(REPLICA_1, ann); PhoenixTestSocket bobOn2 = joined(REPLICA_2, bob);
                PhoenixTestSocket cidOn1 = joined(REPLICA_1, cid)) {
            long group = createGroup(REPLICA_2, bob, "Pushed", ann);
            assertThat(annOn1.awaitPush("conversation", PhoenixTestSocket.WAIT).at("/conversation/id").asLong()).isEqualTo(group);
            bobOn2.awaitPush("conversation", PhoenixTestSocket.WAIT);

            on(REPLICA_1, ann).body(Map.of("user_id", cid.id())).post("/api/conversations/" + group + "/members")
                    .then().statusCode(200);
            assertThat(cidOn1.awaitPush("conversation", PhoenixTestSocket.WAIT).at("/conversation/member_ids").size()).isEqualTo(3);
            assertThat(bobOn2.awaitPush("conversation", PhoenixTestSocket.WAIT).at("/conversation/member_ids").size()).isEqualTo(3);
            annOn1.awaitPush("conversation", PhoenixTestSocket.WAIT);

            on(REPLICA_1, bob).delete("/api/conversations/" + group + "/members/" + ann.id()).then().statusCode(204);
            on(REPLICA_2, ann).get("/api/conversations/" + group).then().statusCode(404);
            on(REPLICA_2, ann).get("/api/conversations/" + group + "/messages").then().statusCode(404);
            assertThat(annOn1.awaitPush("conversation_removed", PhoenixTestSocket.WAIT).get("conversation_id").asLong())
                    .isEqualTo(group);

            send(bobOn2, group, "Ann is gone");
            assertThat(cidOn1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/content").asText())
                    .isEqualTo("Ann is gone");
            assertNothingBeforeSentinel(List.of(annOn1), ann, "Ann after her removal");
        }
    }

    /**
     * Read markers and typing cross replicas: a {@code mark_read} on replica 2 reaches the other
     * members and the reader's other device on replica 1, a REST mark on replica 1 reaches replica
     * 2, and {@code typing} on replica 1 reaches the members on replica 2 (not the typist's own
     * device there). Unread counts read on either replica agree.
     */
    @Test
    void readMarkersAndTypingReachConnectionsOnTheOtherReplica() {
        long group = createGroup(REPLICA_1, ann, "Receipts", bob, cid);
        try (PhoenixTestSocket annOn1 = joined(REPLICA_1, ann); PhoenixTestSocket annOn2 = joined(REPLICA_2, ann);
                PhoenixTestSocket bobOn1 = joined(REPLICA_1, bob); PhoenixTestSocket bobOn2 = joined(REPLICA_2, bob);
                PhoenixTestSocket cidOn2 = joined(REPLICA_2, cid)) {
            long first = send(annOn1, group, "one").get("id").asLong();
            long second = send(annOn1, group, "two").get("id").asLong();
            bobOn2.awaitPush("receive_msg", PhoenixTestSocket.WAIT);
            bobOn2.awaitPush("receive_msg", PhoenixTestSocket.WAIT);

            JsonNode marked = bobOn2.awaitReply(bobOn2.push("room:chat", "mark_read", Map.of("conv", group, "message_id", first)));
            assertThat(marked.get("status").asText()).as(marked.toString()).isEqualTo("ok");
            for (PhoenixTestSocket socket : List.of(annOn1, annOn2, bobOn1, cidOn2)) {
                JsonNode read = socket.awaitPush("read", PhoenixTestSocket.WAIT);
                assertThat(read.get("user_id").asLong()).isEqualTo(bob.id());
                assertThat(read.get("message_id").asLong()).isEqualTo(first);
            }
            for (String replica : List.of(REPLICA_1, REPLICA_2)) {
                JsonNode seenByBob = on(replica, bob).get("/api/conversations/" + group).then().statusCode(200)
                        .extract().as(JsonNode.class);
                assertThat(seenByBob.get("last_read_id").asLong()).as(replica).isEqualTo(first);
                assertThat(seenByBob.get("unread_count").asLong()).as(replica).isEqualTo(1);
            }

            on(REPLICA_1, cid).body(Map.of("message_id", second)).post("/api/conversations/" + group + "/read")
                    .then().statusCode(204);
            assertThat(bobOn2.awaitPush("read", PhoenixTestSocket.WAIT).get("user_id").asLong())
                    .as("the next read Bob's marking socket gets is Cid's, not its own").isEqualTo(cid.id());
            assertThat(annOn2.awaitPush("read", PhoenixTestSocket.WAIT).get("user_id").asLong()).isEqualTo(cid.id());

            JsonNode typing = annOn1.awaitReply(annOn1.push("room:chat", "typing", Map.of("conv", group)));
            assertThat(typing.get("status").asText()).as(typing.toString()).isEqualTo("ok");
            for (PhoenixTestSocket socket : List.of(bobOn2, cidOn2, bobOn1)) {
                JsonNode pushed = socket.awaitPush("typing", PhoenixTestSocket.WAIT);
                assertThat(pushed.get("conversation_id").asLong()).isEqualTo(group);
                assertThat(pushed.get("user_id").asLong()).isEqualTo(ann.id());
            }
            assertThat(annOn2.receivesPush("typing", Duration.ofMillis(500))).as("the typist's device on replica 2").isFalse();
        }
    }

    /**
     * Ann sends to the group on replica 1 without pause while Bob, its creator, removes Cid
     * through replica 2. Cid's sockets on both replicas get some messages, then
     * {@code conversation_removed}, then nothing of the group; none of the messages ok'd after
     * the DELETE answered.
     */
    @Test
    void aMemberRemovedOnOneReplicaWhileMessagesAreSentOnTheOtherGetsNothingMore() throws Exception {
        long group = createGroup(REPLICA_1, bob, "Busy", ann, cid);
        try (PhoenixTestSocket annOn1 = joined(REPLICA_1, ann); PhoenixTestSocket cidOn1 = joined(REPLICA_1, cid);
                PhoenixTestSocket cidOn2 = joined(REPLICA_2, cid)) {
            CountDownLatch underWay = new CountDownLatch(20);
            List<Long> okAfterDelete = new ArrayList<>();
            CompletableFuture<Void> removed = new CompletableFuture<>();
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 80; i++) {
                    boolean afterDelete = removed.isDone();
                    long id = send(annOn1, group, "busy " + i).get("id").asLong();
                    if (afterDelete) {
                        okAfterDelete.add(id);
                    }
                    underWay.countDown();
                }
            });
            assertThat(underWay.await(PhoenixTestSocket.WAIT.toSeconds(), TimeUnit.SECONDS)).as("20 messages sent").isTrue();
            on(REPLICA_2, bob).delete("/api/conversations/" + group + "/members/" + cid.id()).then().statusCode(204);
            removed.complete(null);
            sender.get(60, TimeUnit.SECONDS);

            for (PhoenixTestSocket socket : List.of(cidOn1, cidOn2)) {
                List<Long> received = new ArrayList<>();
                while (true) {
                    JsonNode frame = socket.await(PhoenixTestSocket::isPushButPresence, PhoenixTestSocket.WAIT, "a push");
                    if ("conversation_removed".equals(frame.path(3).asText())) {
                        break;
                    }
                    assertThat(frame.path(3).asText()).as("pushes before the removal").isEqualTo("receive_msg");
                    received.add(frame.at("/4/message/id").asLong());
                }
                assertThat(received).as("what Cid got: nothing ok'd after the DELETE answered").doesNotContainAnyElementsOf(okAfterDelete);
            }
            assertNothingBeforeSentinel(List.of(cidOn1, cidOn2), cid, "Cid after the removal");
            assertThat(okAfterDelete).as("messages ok'd after the DELETE (the race happened)").isNotEmpty();
        }
    }

    /**
     * A registered, logged-in user. On a busy machine a login may answer 503 (bcrypt slower than
     * auth-service's timeout to user-service, by design): retried then, as its Retry-After says.
     */
    private static Member member(String name) {
        TestUser user = system.register(name);
        Instant deadline = Instant.now().plusSeconds(60);
        while (true) {
            Response login = given().baseUri(system.gatewayUrl()).contentType(ContentType.JSON)
                    .body(Map.of("creds", Map.of("email", user.email(), "password", user.password())))
                    .when().post("/api/login");
            if (login.statusCode() != 503 || Instant.now().isAfter(deadline)) {
                assertThat(login.statusCode()).as("login of %s: %s", name, login.asString()).isEqualTo(200);
                return new Member(user, login.jsonPath().getString("data.token"));
            }
            ServiceProcess.sleep(1000L * Long.parseLong(login.header("Retry-After")));
        }
    }

    private static long createGroup(String replica, Member creator, String title, Member... others) {
        List<Long> ids = new ArrayList<>();
        for (Member other : others) {
            ids.add(other.id());
        }
        return on(replica, creator).body(Map.of("title", title, "member_ids", ids)).post("/api/conversations")
                .then().statusCode(201).extract().jsonPath().getLong("id");
    }

    private static RequestSpecification on(String replica, Member member) {
        return given().baseUri(system.service(replica).baseUrl()).auth().oauth2(member.token()).contentType(ContentType.JSON);
    }

    private static JsonNode send(PhoenixTestSocket socket, long conversation, String text) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", text)));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
        return reply.at("/response/message");
    }

    /** A direct message to the user; the next push of each of their sockets must be that one. */
    private static void assertNothingBeforeSentinel(List<PhoenixTestSocket> sockets, Member member, String what) {
        long direct = system.conversation(sentinel.token(), member.id());
        long id = given().baseUri(system.gatewayUrl()).auth().oauth2(sentinel.token()).contentType(ContentType.JSON)
                .body(Map.of("content", "sentinel")).post("/api/conversations/" + direct + "/messages")
                .then().statusCode(201).extract().jsonPath().getLong("id");
        for (PhoenixTestSocket socket : sockets) {
            JsonNode next = socket.await(PhoenixTestSocket::isPushButPresence, PhoenixTestSocket.WAIT, "the sentinel");
            assertThat(next.path(3).asText() + " " + next.at("/4/message/id").asLong()).as("%s: next push", what)
                    .isEqualTo("receive_msg " + id);
        }
    }

    private static PhoenixTestSocket joined(String replica, Member member) {
        PhoenixTestSocket socket = PhoenixTestSocket.connect(system.wsBase(replica), member.token());
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket;
    }
}
