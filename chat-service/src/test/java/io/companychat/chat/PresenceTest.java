package io.companychat.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
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

/**
 * Presence on {@code room:chat} in raw frames (API.md Part 2, "Presence"): {@code presence_state}
 * right after the join's ok reply with the join's {@code join_ref}; {@code presence_diff}s with
 * both keys always, for a user's own devices, contacts (not strangers), contacts made and lost,
 * and the connections of a dead replica. The {@code phoenix} client's own {@code Presence} object
 * is run against the whole system in {@code gateway/system-tests/…/PresenceIT}.
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class PresenceTest {

    private static final Duration SHORT = Duration.ofMillis(700);
    private static final String STATE = "presence_state";
    private static final String DIFF = "presence_diff";

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

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        bob = chat.newUser("Bob");
        eve = chat.newUser("Eve");
        chat.conversation(ann, bob);
    }

    @Test
    void theJoinIsFollowedByTheStateOfTheCallerAndTheirOnlineContactsOnly() {
        try (PhoenixTestSocket bobSocket = open(bob); PhoenixTestSocket eveSocket = open(eve)) {
            join(bobSocket);
            join(eveSocket);
            try (PhoenixTestSocket annSocket = open(ann)) {
                JsonNode reply = annSocket.joinChat(Map.of());
                assertThat(reply.get("status").asText()).isEqualTo("ok");
                JsonNode next = annSocket.await(frame -> true, PhoenixTestSocket.WAIT, "the frame after the reply");
                assertThat(next.path(3).asText()).as("right after the ok reply: %s", next).isEqualTo(STATE);
                assertThat(next.path(0).isNull()).as("join_ref: %s", next).isFalse();
                assertThat(next.path(1).isNull()).as("ref").isTrue();
                assertThat(next.path(2).asText()).isEqualTo("room:chat");

                JsonNode state = next.path(4);
                assertThat(names(state)).as("Ann and her online contact Bob, not Eve").containsExactlyInAnyOrder(
                        Long.toString(ann), Long.toString(bob));
                JsonNode meta = state.at("/" + ann + "/metas/0");
                assertThat(meta.get("phx_ref").isTextual()).as(meta.toString()).isTrue();
                assertThat(meta.get("online_at").isIntegralNumber()).as(meta.toString()).isTrue();
                assertThat(meta.get("online_at").asLong()).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
                assertThat(state.at("/" + bob + "/metas").size()).isEqualTo(1);
            }
        }
    }

    @Test
    void devicesComeAndGoAsMetasAndTheLastOneTakesTheUserAway() {
        try (PhoenixTestSocket bobSocket = open(bob); PhoenixTestSocket eveSocket = open(eve)) {
            join(bobSocket);
            join(eveSocket);
            PhoenixTestSocket annPhone = open(ann);
            join(annPhone);
            JsonNode joined = diffAbout(bobSocket, "joins", ann);
            assertBothKeys(joined);
            String phoneRef = joined.at("/joins/" + ann + "/metas/0/phx_ref").asText();
            assertThat(phoneRef).isNotEmpty();

            PhoenixTestSocket annLaptop = open(ann);
            JsonNode laptopState = join(annLaptop);
            assertThat(laptopState.at("/" + ann + "/metas").size()).as("both devices: %s", laptopState).isEqualTo(2);
            JsonNode second = diffAbout(bobSocket, "joins", ann);
            String laptopRef = second.at("/joins/" + ann + "/metas/0/phx_ref").asText();
            assertThat(laptopRef).isNotEqualTo(phoneRef);
            JsonNode ownDevice = annPhone.await(frame -> DIFF.equals(frame.path(3).asText())
                    && frame.at("/4/joins/" + ann + "/metas/0/phx_ref").asText().equals(laptopRef), PhoenixTestSocket.WAIT,
                    "the laptop's join on the phone");
            assertBothKeys(ownDevice.get(4));

            annLaptop.close();
            JsonNode left = diffAbout(bobSocket, "leaves", ann);
            assertBothKeys(left);
            assertThat(left.at("/leaves/" + ann + "/metas/0/phx_ref").asText()).as("the closed device's meta").isEqualTo(laptopRef);

            JsonNode leaveReply = annPhone.awaitReply(annPhone.push("room:chat", "phx_leave", Map.of()));
            assertThat(leaveReply.get("status").asText()).isEqualTo("ok");
            assertThat(diffAbout(bobSocket, "leaves", ann).at("/leaves/" + ann + "/metas/0/phx_ref").asText())
                    .as("a phx_leave is a leave").isEqualTo(phoneRef);
            annPhone.close();
            assertThat(receivesDiffAbout(eveSocket, ann, SHORT)).as("a stranger sees none of it").isFalse();
        }
    }

    @Test
    void aNewConversationMakesContactsAndARemovalUnmakesThem() {
        long dan = chat.newUser("Dan");
        try (PhoenixTestSocket annSocket = open(ann); PhoenixTestSocket danSocket = open(dan)) {
            JsonNode annState = join(annSocket);
            assertThat(names(annState)).doesNotContain(Long.toString(dan));
            join(danSocket);
            assertThat(receivesDiffAbout(annSocket, dan, SHORT)).as("Dan is no contact yet").isFalse();

            long group = chat.group(dan, "New", ann);
            JsonNode danAppears = diffAbout(annSocket, "joins", dan);
            assertBothKeys(danAppears);
            assertThat(names(danAppears.get("joins"))).containsExactly(Long.toString(dan));
            assertThat(names(diffAbout(danSocket, "joins", ann).get("joins"))).containsExactly(Long.toString(ann));

            chat.removeMember(dan, group, ann);
            JsonNode danGone = diffAbout(annSocket, "leaves", dan);
            assertBothKeys(danGone);
            assertThat(names(danGone.get("leaves"))).containsExactly(Long.toString(dan));
            assertThat(names(diffAbout(danSocket, "leaves", ann).get("leaves"))).containsExactly(Long.toString(ann));

            long direct = chat.conversation(ann, dan);
            assertThat(direct).isPositive();
            assertThat(names(diffAbout(annSocket, "joins", dan).get("joins"))).as("a direct conversation too")
                    .containsExactly(Long.toString(dan));
        }
    }

    /**
     * Bob's devices change while Ann's rejoin is inside its lookup (held there: the test's open
     * transaction has a row with her connection's {@code phx_ref}, so the join's insert waits for it;
     * the lookup's snapshot is older than the changes): her {@code presence_state} is still the
     * truth, Bob's laptop in, his phone out, and no diff about him comes before it.
     */
    @Test
    void changesDuringAJoinsLookupAreInItsState() throws Exception {
        try (PhoenixTestSocket annSocket = open(ann); PhoenixTestSocket annPhone = open(ann);
                PhoenixTestSocket bobPhone = open(bob); PhoenixTestSocket bobLaptop = open(bob);
                Connection db = database.connect()) {
            String annRef = join(annSocket).at("/" + ann + "/metas/0/phx_ref").asText();
            Map<String, List<String>> phoneView = view(join(annPhone));
            String phoneRef = join(bobPhone).at("/" + bob + "/metas/0/phx_ref").asText();
            diffAbout(annSocket, "joins", bob);
            assertThat(annSocket.awaitReply(annSocket.push("room:chat", "phx_leave", Map.of())).get("status").asText()).isEqualTo("ok");
            diffAbout(bobPhone, "leaves", ann); // her row is deleted before her leave is announced

            db.setAutoCommit(false);
            execute(db, "INSERT INTO presences (phx_ref, replica_id, user_id, online_at) VALUES ('" + annRef + "', 'test', "
                    + ann + ", 1)");
            assertThat(annSocket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
            String laptopRef = join(bobLaptop).at("/" + bob).findValuesAsText("phx_ref").stream()
                    .filter(ref -> !ref.equals(phoneRef)).findFirst().orElseThrow();
            bobPhone.close();
            while (!List.of(laptopRef).equals(phoneView.get(Long.toString(bob)))) { // both changes delivered on this replica
                applyDiff(phoneView, annPhone.await(frame -> DIFF.equals(frame.path(3).asText()), Duration.ofSeconds(2),
                        "Bob's laptop in and phone out on Ann's phone: seen " + phoneView).get(4));
            }
            db.rollback();

            JsonNode frame = annSocket.await(next -> STATE.equals(next.path(3).asText()) || (DIFF.equals(next.path(3).asText())
                    && (next.at("/4/joins").has(Long.toString(bob)) || next.at("/4/leaves").has(Long.toString(bob)))),
                    PhoenixTestSocket.WAIT, "the rejoin's presence_state");
            assertThat(frame.path(3).asText()).as("the first presence frame about Bob after the rejoin: %s", frame).isEqualTo(STATE);
            assertThat(frame.at("/4/" + bob).findValuesAsText("phx_ref")).as("Bob in the rejoin's state: %s", frame)
                    .containsExactly(laptopRef);
            assertThat(receivesDiffAbout(annSocket, bob, SHORT)).as("nothing about Bob after a state that says it all").isFalse();
        }
    }

    /**
     * A replica that stopped heartbeating (here a row left by one, with a connection of Bob's):
     * its connections leave everyone's view. Tests heartbeat every second and call a replica dead
     * after three.
     */
    /**
     * Six contacts come online at once and go at once: Ann's socket gets fewer diffs than changes
     * (the first at once, the rest merged at the end of the 250 ms window), and applying them as the
     * client does (joins, then leaves) gives the truth at every step: all six, then none.
     */
    @Test
    void changesInOneWindowComeAsOneMergedDiff() throws Exception {
        List<Long> team = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            team.add(chat.newUser("Team " + i));
        }
        chat.group(ann, "Team", team.toArray(Long[]::new));
        try (PhoenixTestSocket annSocket = open(ann)) {
            join(annSocket);
            List<PhoenixTestSocket> sockets = new ArrayList<>();
            try {
                for (long member : team) {
                    sockets.add(open(member));
                }
                all(sockets, PresenceTest::join);
                Map<String, List<String>> view = new HashMap<>();
                int diffs = 0;
                while (view.keySet().stream().filter(key -> !key.equals(Long.toString(ann))).count() < team.size()) {
                    applyDiff(view, annSocket.await(frame -> DIFF.equals(frame.path(3).asText()), Duration.ofSeconds(2),
                            "the joins of the team: seen so far " + view).get(4));
                    diffs++;
                }
                assertThat(diffs).as("diffs for %d joins at once", team.size()).isLessThan(team.size());
                team.forEach(member -> assertThat(view.get(Long.toString(member))).as("one meta each: %s", view).hasSize(1));

                all(sockets, PhoenixTestSocket::close);
                diffs = 0;
                while (view.keySet().stream().anyMatch(key -> !key.equals(Long.toString(ann)))) {
                    applyDiff(view, annSocket.await(frame -> DIFF.equals(frame.path(3).asText()), Duration.ofSeconds(2),
                            "the leaves of the team: still seen " + view).get(4));
                    diffs++;
                }
                assertThat(diffs).as("diffs for %d leaves at once", team.size()).isLessThan(team.size());
            } finally {
                sockets.forEach(PhoenixTestSocket::close);
            }
        }
    }

    @Test
    void theConnectionsOfADeadReplicaLeave() throws Exception {
        try (Connection db = database.connect()) {
            execute(db, "INSERT INTO presence_replicas (replica_id, seen_at) VALUES ('gone', now() + interval '1 minute')");
            execute(db, "INSERT INTO presences (phx_ref, replica_id, user_id, online_at) VALUES ('gone-1', 'gone', " + bob
                    + ", 1)");
            try (PhoenixTestSocket annSocket = open(ann)) {
                JsonNode state = join(annSocket);
                assertThat(state.at("/" + bob + "/metas/0/phx_ref").asText()).as("Bob, on the other replica: %s", state)
                        .isEqualTo("gone-1");
                execute(db, "UPDATE presence_replicas SET seen_at = now() - interval '1 hour' WHERE replica_id = 'gone'");
                JsonNode gone = diffAbout(annSocket, "leaves", bob);
                assertBothKeys(gone);
                assertThat(gone.at("/leaves/" + bob + "/metas/0/phx_ref").asText()).isEqualTo("gone-1");
            }
        }
        assertThat(chat.queryLong("SELECT count(*) FROM presences WHERE replica_id = 'gone'")).isZero();
    }

    /**
     * Another replica's presence events that never came while this one's LISTEN connection was lost (here: rows
     * written without a NOTIFY, then the LISTEN backend terminated): once it listens again, the joined connection
     * gets a fresh presence_state with its own join_ref, and it is the truth.
     */
    @Test
    void aLostListenConnectionOnceBackSendsJoinedConnectionsAFreshStateOfTheTruth() throws Exception {
        try (Connection db = database.connect()) {
            execute(db, "INSERT INTO presence_replicas (replica_id, seen_at) VALUES ('other', now() + interval '1 hour')");
            execute(db, "INSERT INTO presences (phx_ref, replica_id, user_id, online_at) VALUES ('other-1', 'other', " + bob
                    + ", 1)");
            try (PhoenixTestSocket annSocket = open(ann)) {
                assertThat(annSocket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
                JsonNode first = annSocket.await(frame -> STATE.equals(frame.path(3).asText()), PhoenixTestSocket.WAIT,
                        "the state after the join");
                String annRef = first.at("/4/" + ann + "/metas/0/phx_ref").asText();
                assertThat(view(first.get(4))).as("before").isEqualTo(Map.of(Long.toString(ann), List.of(annRef),
                        Long.toString(bob), List.of("other-1")));

                // Bob's phone leaves and his laptop joins on the other replica; their events are lost with the LISTEN connection.
                execute(db, "DELETE FROM presences WHERE phx_ref = 'other-1'");
                execute(db, "INSERT INTO presences (phx_ref, replica_id, user_id, online_at) VALUES ('other-2', 'other', "
                        + bob + ", 2)");
                execute(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND application_name LIKE '%" + PgNotifications.APPLICATION_NAME_SUFFIX + "'");

                JsonNode fresh = annSocket.await(frame -> STATE.equals(frame.path(3).asText()), Duration.ofSeconds(10),
                        "a fresh presence_state once the LISTEN connection is back");
                assertThat(fresh.path(0).asText()).as("its join_ref: %s", fresh).isEqualTo(first.path(0).asText());
                assertThat(view(fresh.get(4))).as("the truth: %s", fresh).isEqualTo(Map.of(Long.toString(ann), List.of(annRef),
                        Long.toString(bob), List.of("other-2")));
            }
        } finally {
            try (Connection db = database.connect()) {
                execute(db, "WITH gone AS (DELETE FROM presence_replicas WHERE replica_id = 'other') "
                        + "DELETE FROM presences WHERE replica_id = 'other'");
            }
        }
    }

    /** The next diff that has {@code user} under {@code key} ({@code joins} or {@code leaves}); within 2 s, as API.md says. */
    private static JsonNode diffAbout(PhoenixTestSocket socket, String key, long user) {
        return socket.await(frame -> DIFF.equals(frame.path(3).asText()) && frame.path(4).path(key).has(Long.toString(user)),
                Duration.ofSeconds(2), key + " of user " + user).get(4);
    }

    private static boolean receivesDiffAbout(PhoenixTestSocket socket, long user, Duration limit) {
        try {
            socket.await(frame -> DIFF.equals(frame.path(3).asText()) && (frame.path(4).path("joins").has(Long.toString(user))
                    || frame.path(4).path("leaves").has(Long.toString(user))), limit, "a diff about " + user);
            return true;
        } catch (AssertionError none) {
            return false;
        }
    }

    /** {@code action} on every socket at once, one thread each (a parallel stream runs one or two at a time here). */
    private static void all(List<PhoenixTestSocket> sockets, Consumer<PhoenixTestSocket> action) {
        ExecutorService threads = Executors.newFixedThreadPool(sockets.size());
        try {
            CompletableFuture.allOf(sockets.stream()
                    .map(socket -> CompletableFuture.runAsync(() -> action.accept(socket), threads))
                    .toArray(CompletableFuture[]::new)).join();
        } finally {
            threads.shutdown();
        }
    }

    /** What the phoenix client's {@code Presence.syncDiff} does with a diff: joins (a ref replaces its meta), then leaves. */
    private static void applyDiff(Map<String, List<String>> view, JsonNode diff) {
        assertBothKeys(diff);
        diff.get("joins").fields().forEachRemaining(user -> user.getValue().get("metas").forEach(meta -> {
            List<String> refs = view.computeIfAbsent(user.getKey(), key -> new ArrayList<>());
            refs.remove(meta.get("phx_ref").asText());
            refs.add(meta.get("phx_ref").asText());
        }));
        diff.get("leaves").fields().forEachRemaining(user -> user.getValue().get("metas").forEach(meta -> {
            List<String> refs = view.get(user.getKey());
            if (refs != null) {
                refs.remove(meta.get("phx_ref").asText());
                if (refs.isEmpty()) {
                    view.remove(user.getKey());
                }
            }
        }));
    }

    /** A {@code presence_state} as the client holds it: user → refs. */
    private static Map<String, List<String>> view(JsonNode state) {
        Map<String, List<String>> view = new HashMap<>();
        state.fields().forEachRemaining(user -> view.put(user.getKey(),
                new ArrayList<>(user.getValue().findValuesAsText("phx_ref"))));
        return view;
    }

    private static void execute(Connection db, String sql) throws Exception {
        try (PreparedStatement statement = db.prepareStatement(sql)) {
            statement.execute();
        }
    }

    private static void assertBothKeys(JsonNode diff) {
        assertThat(diff.has("joins") && diff.has("leaves")).as("both keys: %s", diff).isTrue();
        assertThat(diff.get("joins").isObject() && diff.get("leaves").isObject()).as(diff.toString()).isTrue();
    }

    private static List<String> names(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Joins and returns the {@code presence_state} that follows. */
    private static JsonNode join(PhoenixTestSocket socket) {
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket.awaitPush(STATE, PhoenixTestSocket.WAIT);
    }

    private PhoenixTestSocket open(long user) {
        return PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(), chat.tokenFor(user));
    }
}
