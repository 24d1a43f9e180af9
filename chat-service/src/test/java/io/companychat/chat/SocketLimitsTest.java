package io.companychat.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
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
import io.companychat.common.testing.RawUpgrade;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The socket's abuse limits (issue 13), through real sockets: bounded waiting frames per socket (error replies,
 * then 1008), sockets per user (429 at the upgrade), and the Origin check (403).
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class SocketLimitsTest {

    /** chat.socket.max-waiting-frames */
    private static final int MAX_WAITING_FRAMES = 64;
    /** chat.socket.max-waiting-chars */
    private static final int MAX_WAITING_CHARS = 262_144;
    /** chat.socket.max-per-user (CHAT_SOCKETS_PER_USER) */
    private static final int SOCKETS_PER_USER = 20;
    /** One of %test.chat.socket.allowed-origins (CHAT_ALLOWED_ORIGINS). */
    private static final String ALLOWED_ORIGIN = "https://app.example.com";
    private static final String SLOW_DOWN = "too many frames waiting, slow down";
    private static final Duration SETTLE = Duration.ofMillis(500);

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

    /**
     * Holding the conversation's row keeps the first send_msg at its INSERT, so everything sent after it has to
     * wait: the client sends faster than it is served, for as long as the test likes.
     */
    @Test
    void socketThatKeepsSendingFasterThanItIsServedGetsErrorRepliesThenIsClosedWith1008() throws Exception {
        try (PhoenixTestSocket flooder = joined(ann); PhoenixTestSocket bystander = joined(ben)) {
            try (HeldConversation held = new HeldConversation(conversation)) {
                int sent = 0;
                try {
                    for (; sent < 4 * MAX_WAITING_FRAMES; sent++) {
                        flooder.push("room:chat", "send_msg", Map.of("conv", conversation, "message", "flood " + sent,
                                "client_id", "flood-" + sent));
                    }
                } catch (RuntimeException closedMeanwhile) {
                    // the server closed the socket while frames were still being sent
                }
                assertThat(flooder.awaitServerClose(PhoenixTestSocket.WAIT))
                        .as("close code after %d frames sent without waiting (1008: policy violation)", sent).isEqualTo(1008);
                assertThat(refusals(flooder)).as("error replies (%s) before the close: one per frame past the %d waiting",
                        SLOW_DOWN, MAX_WAITING_FRAMES).isEqualTo(MAX_WAITING_FRAMES);
                assertThat(bystander.awaitReply(bystander.push("phoenix", "heartbeat", Map.of())).path("status").asText())
                        .as("another user's socket meanwhile").isEqualTo("ok");
                assertThat(upgradeStatus(ann, Map.of())).as("the flooder reconnecting at once (chat.socket.abuse-cut-off)")
                        .isEqualTo(429);
                RawUpgrade refused = rawUpgrade(ann);
                assertThat(refused.status()).as("the flooder's upgrade, by hand").isEqualTo(429);
                assertThat(Long.parseLong(refused.headers().getOrDefault("retry-after", "0")))
                        .as("Retry-After of the 429 (what is left of the 10 s cut-off; headers %s)", refused.headers())
                        .isBetween(1L, 10L);
                assertThat(upgradeStatus(ben, Map.of())).as("another user's upgrade meanwhile").isEqualTo(101);
            }
            // Released: the first message is stored; what waited behind it was dropped with the socket, and nothing
            // refused is stored.
            await().atMost(PhoenixTestSocket.WAIT).until(() -> chat.countMessages(conversation) == 1);
            assertThat(chat.queryLong("SELECT count(*) FROM messages WHERE conversation_id = ? AND client_id <> 'flood-0'",
                    conversation)).as("messages stored besides the first").isZero();
        }
    }

    /** Each burst is refused past the bound; a socket that waits for its replies in between is never closed. */
    @Test
    void refusalsAreForgivenOnceTheSocketHasCaughtUp() throws Exception {
        try (PhoenixTestSocket socket = joined(ann)) {
            for (int burst = 0; burst < 2; burst++) {
                List<String> refs = new ArrayList<>();
                try (HeldConversation held = new HeldConversation(conversation)) {
                    for (int i = 0; i < 1 + 2 * MAX_WAITING_FRAMES; i++) {
                        refs.add(socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", burst + " " + i)));
                    }
                    for (String ref : refs.subList(1 + MAX_WAITING_FRAMES, refs.size())) {
                        assertThat(socket.awaitReply(ref).at("/response/reason").asText()).as("burst %d, reply to %s", burst, ref)
                                .isEqualTo(SLOW_DOWN);
                    }
                }
                for (String ref : refs.subList(0, 1 + MAX_WAITING_FRAMES)) {
                    assertThat(socket.awaitReply(ref).path("status").asText()).as("burst %d, reply to waiting frame %s", burst, ref)
                            .isEqualTo("ok");
                }
                assertThat(socket.awaitServerClose(Duration.ZERO)).as("socket closed after burst %d", burst).isNull();
            }
            assertThat(chat.countMessages(conversation)).as("messages stored").isEqualTo(2 * (1 + MAX_WAITING_FRAMES));
        }
    }

    /**
     * A socket whose frames wait (behind a message held at its INSERT) is not silent: the idle sweep (4 s in tests)
     * leaves it open however long they wait, and they are all answered once the message is stored.
     */
    @Test
    void socketWhoseFramesWaitIsNotClosedAsIdle() throws Exception {
        try (PhoenixTestSocket socket = joined(ann)) {
            List<String> refs = new ArrayList<>();
            try (HeldConversation held = new HeldConversation(conversation)) {
                refs.add(socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", "held")));
                for (int second = 1; second <= 6; second++) {
                    refs.add(socket.push("phoenix", "heartbeat", Map.of()));
                    assertThat(socket.awaitServerClose(Duration.ofSeconds(1))).as("close code %d s into the wait", second).isNull();
                }
            }
            for (String ref : refs) {
                assertThat(socket.awaitReply(ref).path("status").asText()).as("reply to %s", ref).isEqualTo("ok");
            }
        }
    }

    /** A few large frames fill the bound on characters long before the bound on frames: memory stays bounded. */
    @Test
    void waitingFramesAreBoundedByTheirCharactersToo() throws Exception {
        String large = "x".repeat(60_000);
        int fitting = MAX_WAITING_CHARS / (large.length() + 100);
        List<String> refs = new ArrayList<>();
        try (PhoenixTestSocket socket = joined(ann)) {
            try (HeldConversation held = new HeldConversation(conversation)) {
                refs.add(socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", "first")));
                for (int i = 0; i <= fitting; i++) {
                    refs.add(socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", large)));
                }
                assertThat(socket.awaitReply(refs.get(refs.size() - 1)).at("/response/reason").asText())
                        .as("reply to the large frame that did not fit among the %d waiting", fitting).isEqualTo(SLOW_DOWN);
            }
            assertThat(socket.awaitReply(refs.get(0)).path("status").asText()).as("first message").isEqualTo("ok");
            for (String ref : refs.subList(1, 1 + fitting)) {
                assertThat(socket.awaitReply(ref).at("/response/reason").asText()).as("waited, then handled: %s", ref)
                        .isEqualTo("invalid message");
            }
        }
        assertThat(chat.countMessages(conversation)).isEqualTo(1);
    }

    @Test
    void upgradeOfAUserWhoHoldsTheMostSocketsIsRefusedWith429UntilOneCloses() throws IOException {
        List<PhoenixTestSocket> open = new ArrayList<>();
        try {
            for (int i = 0; i < SOCKETS_PER_USER; i++) {
                open.add(connect(ann));
            }
            assertThat(upgradeStatus(ann, Map.of())).as("upgrade of socket %d", SOCKETS_PER_USER + 1).isEqualTo(429);
            RawUpgrade refused = rawUpgrade(ann);
            assertThat(refused.status()).as("upgrade of socket %d, by hand", SOCKETS_PER_USER + 1).isEqualTo(429);
            assertThat(refused.headers()).as("headers of the 429").containsEntry("retry-after", "5");
            assertThat(upgradeStatus(ben, Map.of())).as("another user's upgrade").isEqualTo(101);
            assertThat(open.get(0).joinChat(Map.of()).path("status").asText()).as("the open ones keep working").isEqualTo("ok");

            open.remove(0).close();
            await().atMost(PhoenixTestSocket.WAIT).until(() -> upgradeStatus(ann, Map.of()) == 101);
        } finally {
            open.forEach(PhoenixTestSocket::close);
        }
    }

    /** Upgrades that pass the check together are caught when they open: never more than the limit stay open. */
    @Test
    void simultaneousUpgradesOfOneUserLeaveNoMoreThanTheLimitOpen() throws Exception {
        List<Supplier<Object>> upgrades = new ArrayList<>();
        for (int i = 0; i < 2 * SOCKETS_PER_USER; i++) {
            upgrades.add(() -> {
                try {
                    return connect(ann);
                } catch (PhoenixTestSocket.Rejected rejected) {
                    return rejected.status;
                }
            });
        }
        List<Object> outcomes = Parallel.run(upgrades);
        List<PhoenixTestSocket> sockets = outcomes.stream().filter(PhoenixTestSocket.class::isInstance)
                .map(PhoenixTestSocket.class::cast).toList();
        try {
            assertThat(outcomes).as("refused upgrades").filteredOn(o -> !(o instanceof PhoenixTestSocket))
                    .allSatisfy(status -> assertThat(status).isEqualTo(429));
            await().atMost(PhoenixTestSocket.WAIT).until(() -> sockets.stream()
                    .filter(socket -> socket.awaitServerClose(Duration.ZERO) != null).count() == sockets.size() - SOCKETS_PER_USER);
            List<PhoenixTestSocket> stillOpen = new ArrayList<>();
            for (PhoenixTestSocket socket : sockets) {
                Integer code = socket.awaitServerClose(Duration.ZERO);
                if (code == null) {
                    stillOpen.add(socket);
                } else {
                    assertThat(code).as("close code of a socket past the limit").isEqualTo(1008);
                }
            }
            for (PhoenixTestSocket socket : stillOpen) {
                assertThat(socket.joinChat(Map.of()).path("status").asText()).as("a socket left open").isEqualTo("ok");
            }
        } finally {
            sockets.forEach(PhoenixTestSocket::close);
        }
    }

    @Test
    void upgradeFromAPageOfAnotherSiteIsRefusedWith403() {
        for (String origin : List.of("https://evil.example.com", "null", "http://" + root.getHost() + ":" + (root.getPort() + 1),
                "http://" + root.getHost() + "." + "evil.example.com:" + root.getPort(), "https://app.example.com.evil.example.com",
                "not an origin")) {
            assertThat(upgradeStatus(ann, Map.of("Origin", origin))).as("upgrade with Origin %s", origin).isEqualTo(403);
        }
    }

    @Test
    void upgradeWithoutOriginOrFromTheGatewaysOwnOriginOrAnAllowedOnePasses() {
        String own = "http://" + root.getHost() + ":" + root.getPort();
        Map<String, Map<String, String>> passing = new LinkedHashMap<>();
        passing.put("no Origin (a native client)", Map.of());
        passing.put("the origin of the host addressed", Map.of("Origin", own));
        passing.put("the same, in capitals", Map.of("Origin", own.toUpperCase()));
        passing.put("an allowed origin", Map.of("Origin", ALLOWED_ORIGIN));
        passing.put("behind the gateway: the host its client addressed",
                Map.of("X-Forwarded-Host", "chat.example.com:8080", "Origin", "http://chat.example.com:8080"));
        passing.put("behind the gateway on the scheme's default port, TLS ended before it",
                Map.of("X-Forwarded-Host", "chat.example.com", "Origin", "https://chat.example.com"));
        passing.forEach((what, headers) -> assertThat(upgradeStatus(ann, headers)).as(what).isEqualTo(101));

        assertThat(upgradeStatus(ann, Map.of("X-Forwarded-Host", "chat.example.com", "Origin", own)))
                .as("behind the gateway, the service's own address is not the gateway's origin").isEqualTo(403);
    }

    /** The error replies telling the client to slow down, among what the socket received. */
    private static int refusals(PhoenixTestSocket socket) {
        int count = 0;
        while (true) {
            try {
                socket.await(frame -> "phx_reply".equals(frame.path(3).asText())
                        && SLOW_DOWN.equals(frame.at("/4/response/reason").asText()), SETTLE, "a refusal");
                count++;
            } catch (AssertionError none) {
                return count;
            }
        }
    }

    private int upgradeStatus(long user, Map<String, String> headers) {
        try (PhoenixTestSocket socket = PhoenixTestSocket.open(socketUri(user), headers)) {
            return 101;
        } catch (PhoenixTestSocket.Rejected rejected) {
            return rejected.status;
        }
    }

    /** An upgrade by hand, for the refusal's headers (the JDK's client keeps only the status). */
    private RawUpgrade rawUpgrade(long user) throws IOException {
        URI uri = socketUri(user);
        try (RawUpgrade answer = RawUpgrade.open(uri.getHost(), uri.getPort(), uri.getRawPath() + "?" + uri.getRawQuery(), 0,
                PhoenixTestSocket.WAIT)) {
            return answer;
        }
    }

    private PhoenixTestSocket connect(long user) {
        return PhoenixTestSocket.open(socketUri(user));
    }

    /**
     * A socket joined to {@code room:chat}, its {@code presence_state} received: the join's turn goes on after its ok
     * reply until the presence is sent, and a frame sent before then waits behind it (one more frame waiting than
     * the tests count on).
     */
    private PhoenixTestSocket joined(long user) {
        PhoenixTestSocket socket = connect(user);
        JsonNode reply = socket.joinChat(Map.of());
        assertThat(reply.path("status").asText()).as(reply.toString()).isEqualTo("ok");
        socket.awaitPush("presence_state", PhoenixTestSocket.WAIT);
        return socket;
    }

    private URI socketUri(long user) {
        return URI.create("ws://" + root.getHost() + ":" + root.getPort() + "/socket/websocket?token=" + chat.tokenFor(user)
                + "&vsn=2.0.0");
    }

    /** The conversation's row held (FOR UPDATE) until closed: every INSERT of a message into it waits meanwhile. */
    private final class HeldConversation implements AutoCloseable {

        private final Connection connection;

        HeldConversation(long conversationId) throws SQLException {
            connection = database.connect();
            connection.setAutoCommit(false);
            try (PreparedStatement hold = connection.prepareStatement("SELECT id FROM conversations WHERE id = ? FOR UPDATE")) {
                hold.setLong(1, conversationId);
                hold.executeQuery().close();
            }
        }

        @Override
        public void close() throws SQLException {
            connection.rollback();
            connection.close();
        }
    }
}
