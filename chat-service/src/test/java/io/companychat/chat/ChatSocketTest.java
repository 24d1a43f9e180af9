package io.companychat.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.notify.PgNotifications;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.ManagementMetrics;
import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.RawUpgrade;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** The chat socket over a real WebSocket: Phoenix Channels framing, auth at the upgrade, send and live delivery. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class ChatSocketTest {

    /** quarkus.websockets-next.server.max-frame-size */
    private static final int MAX_FRAME_BYTES = 65_536;
    private static final Duration REVOCATION_PROMISE = Duration.ofSeconds(1);
    private static final String REFUSED_UPGRADES = "chat_socket_upgrades_refused_total";

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
    private long ben;
    private long conversation;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        ben = chat.newUser("Ben");
        conversation = chat.conversation(ann, ben);
    }

    @Test
    void joinAndHeartbeatAreAnsweredOk() {
        try (PhoenixTestSocket socket = connect(ann)) {
            assertThat(socket.joinChat(Map.of()).toString()).isEqualTo("{\"status\":\"ok\",\"response\":{}}");
            String ref = socket.push("phoenix", "heartbeat", Map.of());
            assertThat(socket.awaitReply(ref).toString()).isEqualTo("{\"status\":\"ok\",\"response\":{}}");
        }
    }

    @Test
    void frameOverTheSizeLimitClosesTheSocketWith1009AndStoresNothing() {
        try (PhoenixTestSocket socket = connect(ann)) {
            socket.joinChat(Map.of());
            socket.sendRaw("[\"1\",\"2\",\"room:chat\",\"send_msg\",{\"conv\":" + conversation + ",\"message\":\""
                    + "m".repeat(MAX_FRAME_BYTES) + "\"}]");
            assertThat(socket.awaitServerClose(PhoenixTestSocket.WAIT)).as("close code (1009: message too big)").isEqualTo(1009);
            assertThat(chat.countMessages(conversation)).isZero();
        }
    }

    @Test
    void unknownTopicIsRefusedAsPhoenixDoes() {
        try (PhoenixTestSocket socket = connect(ann)) {
            String ref = socket.push("room:lobby", "phx_join", Map.of());
            assertThat(socket.awaitReply(ref).toString())
                    .isEqualTo("{\"status\":\"error\",\"response\":{\"reason\":\"unmatched topic\"}}");
            String send = socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", "not joined yet"));
            assertThat(socket.awaitReply(send).at("/response/reason").asText()).isEqualTo("unmatched topic");
            assertThat(chat.countMessages(conversation)).isZero();
        }
    }

    @Test
    void missingForgedExpiredOrRevokedTokenRefusesTheUpgradeWith403() throws Exception {
        double refusedBefore = ManagementMetrics.value(REFUSED_UPGRADES, "reason=\"token\"");
        String revoked = chat.tokenFor(ann);
        notifyRevoked(revoked);
        List<String> queries = List.of("", "?token=", "?token=garbage",
                "?token=" + tokens.foreignKeyTokenFor(ann, "a@example.com"),
                "?token=" + tokens.expiredTokenFor(ann, "a@example.com"),
                "?token=" + TestTokens.unsignedTokenFor(ann, "a@example.com"),
                "?token=" + tokens.wrongIssuerTokenFor(ann, "a@example.com"));
        for (String query : queries) {
            assertThat(PhoenixTestSocket.upgradeStatus(ws(), query)).as("upgrade with %s", query).isEqualTo(403);
        }
        awaitUpgradeStatus("?token=" + revoked, 403);
        assertThat(PhoenixTestSocket.upgradeStatus(ws(), "?token=" + tokens.tokenFor(ben, "b@example.com") + "&vsn=2.0.0"))
                .isEqualTo(101);
        assertThat(ManagementMetrics.value(REFUSED_UPGRADES, "reason=\"token\"") - refusedBefore)
                .as("refused upgrades counted by reason").isGreaterThanOrEqualTo(queries.size() + 1);
    }

    @Test
    void bearerHeaderAuthenticatesTheUpgradeToo() {
        try (PhoenixTestSocket socket = PhoenixTestSocket.open(URI.create(ws() + "/socket/websocket?vsn=2.0.0"),
                Map.of("Authorization", "Bearer " + chat.tokenFor(ann)))) {
            assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        }
    }

    /**
     * phoenix.js 1.8's {@code authToken}: the subprotocols {@code phoenix} and {@code base64url.bearer.phx.<token in
     * base64, unpadded>}; the answer must select {@code phoenix}, or a browser drops the connection.
     */
    @Test
    void phoenixAuthTokenSubprotocolAuthenticatesTheUpgradeAndPhoenixIsSelected() throws Exception {
        String encoded = Base64.getEncoder().withoutPadding().encodeToString(chat.tokenFor(ann).getBytes(StandardCharsets.US_ASCII));
        URI base = URI.create(ws());
        try (RawUpgrade upgrade = RawUpgrade.open(base.getHost(), base.getPort(), "/socket/websocket?vsn=2.0.0",
                Map.of("Sec-WebSocket-Protocol", "phoenix, base64url.bearer.phx." + encoded), 0, PhoenixTestSocket.WAIT)) {
            assertThat(upgrade.status()).as("upgrade with the token as a subprotocol").isEqualTo(101);
            assertThat(upgrade.headers()).as("the subprotocol selected").containsEntry("sec-websocket-protocol", "phoenix");
        }
        String urlAlphabet = Base64.getUrlEncoder().withoutPadding().encodeToString(chat.tokenFor(ann).getBytes(StandardCharsets.US_ASCII));
        try (PhoenixTestSocket socket = PhoenixTestSocket.open(URI.create(ws() + "/socket/websocket?vsn=2.0.0"),
                List.of("phoenix", "base64url.bearer.phx." + urlAlphabet))) {
            assertThat(socket.joinChat(Map.of()).get("status").asText()).as("a socket authenticated so").isEqualTo("ok");
        }
        for (String bad : List.of("base64url.bearer.phx.", "base64url.bearer.phx.%%%",
                "base64url.bearer.phx." + Base64.getEncoder().withoutPadding().encodeToString("garbage".getBytes(StandardCharsets.US_ASCII)))) {
            try (RawUpgrade refused = RawUpgrade.open(base.getHost(), base.getPort(), "/socket/websocket?vsn=2.0.0",
                    Map.of("Sec-WebSocket-Protocol", "phoenix, " + bad), 0, PhoenixTestSocket.WAIT)) {
                assertThat(refused.status()).as("upgrade with %s", bad).isEqualTo(403);
            }
        }
        try (RawUpgrade plain = RawUpgrade.open(base.getHost(), base.getPort(), "/socket/websocket?vsn=2.0.0&token="
                + chat.tokenFor(ann), 0, PhoenixTestSocket.WAIT)) {
            assertThat(plain.status()).isEqualTo(101);
            assertThat(plain.headers()).as("no subprotocol offered, none selected").doesNotContainKey("sec-websocket-protocol");
        }
    }

    @Test
    void sentMessageIsStoredBeforeTheReplyAndPushedIdenticallyToTheRecipient() {
        String before = ManagementMetrics.scrape();
        try (PhoenixTestSocket sender = joined(ann); PhoenixTestSocket recipient = joined(ben)) {
            String ref = sender.push("room:chat", "send_msg", Map.of("user", ben, "conv", conversation, "message", "Hi Ben"));
            JsonNode reply = sender.awaitReply(ref);
            assertThat(chat.countMessages(conversation)).as("stored when the reply arrived").isEqualTo(1);

            assertThat(reply.get("status").asText()).isEqualTo("ok");
            JsonNode message = reply.at("/response/message");
            assertThat(message.get("content").asText()).isEqualTo("Hi Ben");
            assertThat(message.get("sender_id").asLong()).isEqualTo(ann);
            assertThat(message.get("conversation_id").asLong()).isEqualTo(conversation);
            assertThat(fieldNames(message)).containsExactlyInAnyOrder("id", "conversation_id", "sender_id", "content", "date",
                    "inserted_at", "edited_at", "deleted_at");
            assertThat(message.get("edited_at").isNull()).as("a new message is not edited").isTrue();
            assertThat(message.get("deleted_at").isNull()).as("a new message is not deleted").isTrue();

            JsonNode pushed = recipient.awaitPush("receive_msg", PhoenixTestSocket.WAIT);
            assertThat(pushed.get("message")).isEqualTo(message);
            // read before the sentinel below, a message of its own
            String after = ManagementMetrics.scrape();
            assertThat(chat.pushesBeforeSentinel(sender, ann, "receive_msg")).as("the sending socket gets a reply, not a push").isEmpty();

            // the metrics moved: one more stored, one push (to the recipient), its lag timed
            assertThat(delta(before, after, "chat_messages_stored_total")).as("stored").isEqualTo(1);
            assertThat(delta(before, after, "chat_messages_delivered_total")).as("delivered").isEqualTo(1);
            assertThat(delta(before, after, "chat_delivery_lag_seconds_count")).as("delivery lags measured").isEqualTo(1);
            assertThat(ManagementMetrics.value(after, "chat_sockets_open", "")).as("open sockets").isGreaterThanOrEqualTo(2);
            assertThat(ManagementMetrics.value(after, "chat_users_connected", "")).as("connected users").isGreaterThanOrEqualTo(2);
        }
    }

    private static double delta(String before, String after, String series) {
        return ManagementMetrics.value(after, series, "") - ManagementMetrics.value(before, series, "");
    }

    @Test
    void nonParticipantWrongUserAndBadContentAreRefusedAndNothingIsStored() {
        long eve = chat.newUser("Eve");
        try (PhoenixTestSocket intruder = joined(eve); PhoenixTestSocket sender = joined(ann)) {
            assertThat(reasonFor(intruder, Map.of("user", ben, "conv", conversation, "message", "let me in")))
                    .isEqualTo("conversation not found");
            assertThat(reasonFor(intruder, Map.of("conv", Long.MAX_VALUE / 2, "message", "guess"))).isEqualTo("conversation not found");
            assertThat(reasonFor(sender, Map.of("user", eve, "conv", conversation, "message", "wrong user")))
                    .isEqualTo("invalid message");
            assertThat(reasonFor(sender, Map.of("user", ben, "conv", conversation, "message", "   "))).isEqualTo("invalid message");
            assertThat(reasonFor(sender, Map.of("user", ben, "conv", conversation, "message", "x".repeat(4001))))
                    .isEqualTo("invalid message");
            assertThat(reasonFor(sender, Map.of("user", ben, "conv", conversation, "message", 42))).isEqualTo("invalid message");
            assertThat(reasonFor(sender, Map.of("user", ben, "conv", "abc", "message", "hi"))).contains("conv");
            assertThat(reasonFor(sender, Map.of("user", ben, "message", "no conv"))).contains("conv");
        }
        assertThat(chat.countMessages(conversation)).isZero();
    }

    @Test
    void everySocketOfTheRecipientAndTheSendersOtherSocketsReceive() {
        try (PhoenixTestSocket annPhone = joined(ann); PhoenixTestSocket annLaptop = joined(ann);
                PhoenixTestSocket benPhone = joined(ben); PhoenixTestSocket benLaptop = joined(ben)) {
            String ref = annPhone.push("room:chat", "send_msg", Map.of("user", ben, "conv", conversation, "message", "to all"));
            JsonNode message = annPhone.awaitReply(ref).at("/response/message");

            assertThat(benPhone.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(message);
            assertThat(benLaptop.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(message);
            assertThat(annLaptop.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(message);
            assertThat(chat.pushesBeforeSentinel(annPhone, ann, "receive_msg")).as("pushes to the sending socket").isEmpty();
        }
    }

    @Test
    void messagePostedOverRestIsPushedLiveToBothParticipants() {
        try (PhoenixTestSocket annSocket = joined(ann); PhoenixTestSocket benSocket = joined(ben)) {
            long id = chat.post(ann, conversation, "over REST");
            assertThat(benSocket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong()).isEqualTo(id);
            assertThat(annSocket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong()).isEqualTo(id);
        }
    }

    @Test
    void repeatedClientIdOverTheSocketStoresOnce() {
        try (PhoenixTestSocket sender = joined(ann)) {
            Map<String, Object> payload = Map.of("user", ben, "conv", conversation, "message", "once", "client_id", "k-1");
            JsonNode first = sender.awaitReply(sender.push("room:chat", "send_msg", payload)).at("/response/message");
            JsonNode again = sender.awaitReply(sender.push("room:chat", "send_msg", payload)).at("/response/message");
            assertThat(again).isEqualTo(first);
        }
        assertThat(chat.countMessages(conversation)).isEqualTo(1);
    }

    /** A heartbeat sent after a send_msg is answered after it, though it needs no database round trip. */
    @Test
    void framesOfOneSocketAreHandledOneAfterAnotherInOrder() {
        try (PhoenixTestSocket sender = joined(ann)) {
            List<String> refs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                refs.add(sender.push("room:chat", "send_msg", Map.of("user", ben, "conv", conversation, "message", "in order " + i)));
                refs.add(sender.push("phoenix", "heartbeat", Map.of()));
            }
            String last = refs.get(refs.size() - 1);
            assertThat(sender.awaitReply(last).path("status").asText()).isEqualTo("ok");
            for (String ref : refs.subList(0, refs.size() - 1)) {
                JsonNode reply = sender.await(frame -> "phx_reply".equals(frame.path(3).asText()) && ref.equals(frame.path(1).asText()),
                        Duration.ZERO, "reply to ref " + ref + " before the reply to the last frame");
                assertThat(reply.path(4).path("status").asText()).as("reply to ref %s", ref).isEqualTo("ok");
            }
        }
        assertThat(chat.countMessages(conversation)).isEqualTo(5);
    }

    @Test
    void revokedTokenClosesTheOpenSocketWithinOneSecond() throws Exception {
        String token = tokens.tokenFor(ann, "ann@example.com");
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect(ws(), token)) {
            socket.joinChat(Map.of());
            Instant revokedAt = Instant.now();
            notifyRevoked(token);
            Integer code = socket.awaitServerClose(REVOCATION_PROMISE.plusMillis(500));
            assertThat(code).as("close code").isEqualTo(1008);
            assertThat(Duration.between(revokedAt, Instant.now())).isLessThanOrEqualTo(REVOCATION_PROMISE);
        }
    }

    @Test
    void socketIsClosedSoonAfterItsTokenExpires() {
        Instant soon = Instant.now().plusSeconds(2);
        String token = tokens.sign(tokens.claims(ann, "ann@example.com").expiresAt(soon));
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect(ws(), token)) {
            socket.joinChat(Map.of());
            assertThat(socket.awaitServerClose(Duration.ofSeconds(4))).as("close code").isEqualTo(1008);
            assertThat(Instant.now()).isBefore(soon.plusSeconds(2));
        }
    }

    @Test
    void silentSocketIsClosedAfterTheIdleTimeout() {
        try (PhoenixTestSocket silent = connect(ann); PhoenixTestSocket chatty = connect(ben)) {
            for (int i = 0; i < 12; i++) {
                chatty.awaitReply(chatty.push("phoenix", "heartbeat", Map.of()));
                if (silent.awaitServerClose(Duration.ofMillis(500)) != null) {
                    break;
                }
            }
            assertThat(silent.awaitServerClose(Duration.ofSeconds(1))).as("silent socket closed").isEqualTo(1000);
            assertThat(chatty.awaitServerClose(Duration.ofMillis(100))).as("heartbeating socket still open").isNull();
        }
    }

    @Test
    void joinWithSinceReplaysNewerMessagesOldestFirstBeforeLiveOnes() {
        long before = chat.post(ben, conversation, "already seen");
        List<Long> missed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            missed.add(chat.post(i % 2 == 0 ? ben : ann, conversation, "missed " + i));
        }
        try (PhoenixTestSocket socket = connect(ann)) {
            assertThat(socket.joinChat(Map.of("since", before)).get("status").asText()).isEqualTo("ok");
            List<Long> replayed = new ArrayList<>();
            for (int i = 0; i < missed.size(); i++) {
                replayed.add(socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong());
            }
            assertThat(replayed).containsExactlyElementsOf(missed);
            long live = chat.post(ben, conversation, "live");
            assertThat(socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong()).isEqualTo(live);
        }
    }

    /**
     * Another replica's announcement of a message can arrive after a reconnecting socket's catch-up
     * already carried it (the replica that stored it died with its NOTIFYs queued, or this one is
     * behind on them): the socket gets it once. Played with the notification such a replica sends,
     * on the real channel, after the replay: the late message, then one stored meanwhile (written
     * straight to the table, so that this replica announces nothing itself), which must come next.
     */
    @Test
    void aLateAnnouncementOfAMessageTheCatchUpCarriedIsNotDeliveredAgain() throws Exception {
        long before = chat.post(ben, conversation, "already seen");
        long missed = chat.post(ben, conversation, "missed while away");
        try (PhoenixTestSocket socket = connect(ann)) {
            assertThat(socket.joinChat(Map.of("since", before)).get("status").asText()).isEqualTo("ok");
            JsonNode replayed = socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message");
            assertThat(replayed.get("id").asLong()).isEqualTo(missed);
            long next = chat.newMessages(conversation, 1, ben).get(0);
            JsonNode stored = chat.as(ann).get(Chat.messagesOf(conversation) + "?limit=1").then().statusCode(200)
                    .extract().as(JsonNode.class).get("data").get(0);
            assertThat(stored.get("id").asLong()).isEqualTo(next);
            String to = "[" + ann + "," + ben + "]";
            try (Connection connection = database.connect();
                    PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('chat_message', ?)")) {
                notify.setString(1, "a-replica-that-died\n[{\"type\":\"m\",\"to\":" + to + ",\"message_id\":" + missed
                        + ",\"message\":" + replayed + "},{\"type\":\"m\",\"to\":" + to + ",\"message_id\":" + next
                        + ",\"message\":" + stored + "}]");
                notify.execute();
            }
            assertThat(socket.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong())
                    .as("the next push after the catch-up of %d", missed).isEqualTo(next);
        }
    }

    /**
     * Pushes of different conversations can reach a socket out of id order: here Ben's message waits, its id taken, on
     * a lock until after Cat's newer one was committed and pushed. Ann's laptop closes between the two and rejoins with
     * {@code since} = the newest id it got: the older message, committed after it, is replayed all the same (the
     * catch-up also reads what was stored in {@code chat.socket.replay-overlap} before {@code since}).
     */
    @Test
    void aMessageCommittedAfterANewerOneItWasPushedBehindIsReplayedToASinceOfTheNewer() throws Exception {
        long cat = chat.newUser("Cat");
        long withCat = chat.conversation(cat, ann);
        long held;
        long newer;
        try (Connection lock = database.connect()) {
            lock.setAutoCommit(false);
            try (PreparedStatement forUpdate = lock.prepareStatement("SELECT 1 FROM conversations WHERE id = ? FOR UPDATE")) {
                forUpdate.setLong(1, conversation);
                forUpdate.execute();
            }
            // Its INSERT takes an id, then waits on the lock to check the conversation's key.
            CompletableFuture<Long> heldBack = CompletableFuture.supplyAsync(() -> chat.post(ben, conversation, "held back"));
            await().atMost(Duration.ofSeconds(10)).until(() -> chat.queryLong("SELECT count(*) FROM pg_stat_activity "
                    + "WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO messages%'") > 0);
            try (PhoenixTestSocket laptop = joined(ann)) {
                newer = chat.post(cat, withCat, "went ahead");
                assertThat(laptop.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong())
                        .as("the newer message, pushed first").isEqualTo(newer);
            }
            lock.rollback();
            held = heldBack.get(10, TimeUnit.SECONDS);
        }
        assertThat(held).as("the held-back message's id").isLessThan(newer);
        try (PhoenixTestSocket laptop = connect(ann)) {
            assertThat(laptop.joinChat(Map.of("since", newer)).get("status").asText()).isEqualTo("ok");
            assertThat(laptop.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong())
                    .as("replayed after since=%d", newer).isEqualTo(held);
            assertThat(laptop.receivesPush("receive_msg", Duration.ofMillis(300))).as("anything more").isFalse();
        }
    }

    /**
     * A message another replica stored while this one's LISTEN connection was lost (written here straight to the
     * table: its NOTIFY never came) reaches a socket that stayed open, without a rejoin, once the connection is back;
     * a message this replica delivered itself meanwhile is not pushed again.
     */
    @Test
    void aMessageStoredElsewhereWhileTheListenConnectionWasLostReachesTheOpenSocketOnceItIsBack() throws Exception {
        assertThat(ManagementMetrics.value("chat_bus_connected", "bus=\"postgres\"")).as("listening").isEqualTo(1);
        double caughtUpBefore = ManagementMetrics.value("chat_bus_caught_up_total", "");
        try (PhoenixTestSocket laptop = joined(ann)) {
            long delivered = deliveredLive(laptop);
            long storedElsewhere = chat.newMessages(conversation, 1, ben).get(0);
            try (Connection db = database.connect(); PreparedStatement terminate = db.prepareStatement(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                            + " AND application_name LIKE ?")) {
                terminate.setString(1, "%" + PgNotifications.APPLICATION_NAME_SUFFIX);
                terminate.execute();
            }
            assertThat(laptop.awaitPush("receive_msg", Duration.ofSeconds(10)).at("/message/id").asLong())
                    .as("pushed once the LISTEN connection is back").isEqualTo(storedElsewhere);
            assertNothingMore(laptop, delivered);
        }
        assertThat(ManagementMetrics.value("chat_bus_caught_up_total", "") - caughtUpBefore).as("caught up").isEqualTo(1);
        assertThat(ManagementMetrics.value("chat_bus_connected", "bus=\"postgres\"")).as("listening again").isEqualTo(1);
    }

    /**
     * A replica killed between a commit and its announcement (here: its heartbeat row left 10 s stale, its message
     * written straight to the table) never announced that message: once this replica reaps it, the socket that stayed
     * open gets it, without a rejoin; a message this replica delivered itself is not pushed again.
     */
    @Test
    void aMessageADeadReplicaStoredUnannouncedReachesTheOpenSocketOnceTheReplicaIsReaped() throws Exception {
        try (PhoenixTestSocket laptop = joined(ann)) {
            long delivered = deliveredLive(laptop);
            long unannounced = chat.newMessages(conversation, 1, ben).get(0);
            try (Connection db = database.connect(); PreparedStatement dead = db.prepareStatement(
                    "INSERT INTO presence_replicas (replica_id, seen_at) VALUES ('killed-replica', now() - interval '10 seconds')")) {
                dead.execute();
            }
            assertThat(laptop.awaitPush("receive_msg", Duration.ofSeconds(10)).at("/message/id").asLong())
                    .as("pushed once the dead replica is reaped").isEqualTo(unannounced);
            assertNothingMore(laptop, delivered);
        } finally {
            try (Connection db = database.connect(); PreparedStatement gone = db.prepareStatement(
                    "DELETE FROM presence_replicas WHERE replica_id = 'killed-replica'")) {
                gone.execute();
            }
        }
    }

    /**
     * The replica that reaps a dead one tells the others ({@code mm} on PostgreSQL, sent here as that replica sends
     * it): this replica reads what was stored since the instant it names and pushes what it had not delivered.
     */
    @Test
    void anotherReplicasNoticeOfADeadOneMakesThisOneCatchUpItsOpenSockets() throws Exception {
        try (PhoenixTestSocket laptop = joined(ann)) {
            long delivered = deliveredLive(laptop);
            long unannounced = chat.newMessages(conversation, 1, ben).get(0);
            long since = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now().minusSeconds(30));
            try (Connection connection = database.connect();
                    PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('chat_message', ?)")) {
                notify.setString(1, "the-reaping-replica\n[{\"type\":\"mm\",\"inserted_at\":" + since + "}]");
                notify.execute();
            }
            assertThat(laptop.awaitPush("receive_msg", Duration.ofSeconds(5)).at("/message/id").asLong())
                    .as("pushed after the notice").isEqualTo(unannounced);
            assertNothingMore(laptop, delivered);
        }
    }

    @Test
    void leaveRepliesOkThenCloses() {
        try (PhoenixTestSocket socket = joined(ann)) {
            String ref = socket.push("room:chat", "phx_leave", Map.of());
            assertThat(socket.awaitReply(ref).get("status").asText()).isEqualTo("ok");
            socket.await(frame -> "phx_close".equals(frame.path(3).asText()), PhoenixTestSocket.WAIT, "phx_close");
        }
    }

    @Test
    void malformedFramesAreAnsweredAndTheSocketStaysUsable() {
        try (PhoenixTestSocket socket = joined(ann)) {
            for (String bad : List.of("not json", "{}", "[1,2,3]", "[null,null,5,\"x\",{}]", "[[],[],\"a\",\"b\",{}]", "")) {
                socket.sendRaw(bad);
                socket.await(frame -> "phx_error".equals(frame.path(3).asText()), PhoenixTestSocket.WAIT, "phx_error for " + bad);
            }
            String unknown = socket.push("room:chat", "dance", Map.of());
            assertThat(socket.awaitReply(unknown).at("/response/reason").asText()).isEqualTo("unknown event");
            String ref = socket.push("phoenix", "heartbeat", Map.of());
            assertThat(socket.awaitReply(ref).get("status").asText()).isEqualTo("ok");
        }
    }

    private String reasonFor(PhoenixTestSocket socket, Map<String, Object> payload) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg", payload));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("error");
        return reply.at("/response/reason").asText();
    }

    /** Ben's message, posted and pushed live to {@code laptop}: a catch-up must not push it again. */
    private long deliveredLive(PhoenixTestSocket laptop) {
        long delivered = chat.post(ben, conversation, "delivered live");
        assertThat(laptop.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong()).as("live")
                .isEqualTo(delivered);
        return delivered;
    }

    private static void assertNothingMore(PhoenixTestSocket laptop, long delivered) {
        assertThat(laptop.receivesPush("receive_msg", Duration.ofSeconds(1))).as("anything more (%d again?)", delivered)
                .isFalse();
    }

    private PhoenixTestSocket connect(long user) {
        return PhoenixTestSocket.connect(ws(), chat.tokenFor(user));
    }

    private PhoenixTestSocket joined(long user) {
        PhoenixTestSocket socket = connect(user);
        assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
        return socket;
    }

    private void awaitUpgradeStatus(String query, int status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = PhoenixTestSocket.upgradeStatus(ws(), query);
            if (last == status) {
                return;
            }
        }
        throw new AssertionError("upgrade answered " + last + ", expected " + status);
    }

    private void notifyRevoked(String token) throws Exception {
        try (Connection connection = database.connect();
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('token_revoked', ?)")) {
            notify.setString(1, TestTokens.jtiOf(token) + " " + TestTokens.expiryOf(token));
            notify.execute();
        }
    }

    private String ws() {
        return "ws://" + root.getHost() + ":" + root.getPort();
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
