package io.companychat.chat;

import static io.companychat.chat.support.Chat.messagesOf;
import static io.companychat.chat.support.HttpAssertions.expectStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.support.Chat;
import io.companychat.chat.support.DeployedLimits;
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
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/**
 * {@code CHAT_MESSAGE_RATE} at its default, 10 messages per second with bursts of 30, per user, REST and socket
 * together (the other tests run with it off: they post hundreds of messages as one user); and
 * {@code CHAT_SIGNAL_RATE}, read markers and typing together, at its default.
 */
@QuarkusTest
@TestProfile(DeployedLimits.class)
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class MessageRateLimitTest {

    private static final int RATE = DeployedLimits.MESSAGE_RATE;
    private static final int BURST = 3 * RATE;
    private static final int SIGNAL_RATE = DeployedLimits.SIGNAL_RATE;

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

    /** Posts at once, from as many threads: the refusals do not depend on how fast this machine is. */
    @Test
    void postsPastTheBurstAreRefusedWith429AndRetryAfterAndNotStored() throws Exception {
        List<Supplier<Response>> posts = new ArrayList<>();
        for (int i = 0; i < 3 * BURST; i++) {
            String content = "burst " + i;
            posts.add(() -> post(ann, content));
        }
        long start = System.nanoTime();
        List<Response> responses = Parallel.run(posts);
        double seconds = (System.nanoTime() - start) / 1e9;

        List<Response> refused = responses.stream().filter(r -> r.statusCode() != 201).toList();
        long created = responses.size() - refused.size();
        assertThat(created).as("posts accepted of %d sent at once in %.2f s (burst %d, then %d/s)", responses.size(), seconds,
                BURST, RATE).isBetween((long) BURST, BURST + (long) Math.ceil(seconds * RATE));
        assertThat(refused).as("refused posts").isNotEmpty().allSatisfy(response -> {
            expectStatus(response, 429, "post past the burst");
            assertThat(response.jsonPath().getString("message")).contains("rate limited");
            assertThat(response.header("Retry-After")).as("Retry-After").isEqualTo("1");
        });
        assertThat(chat.countMessages(conversation)).as("stored: the accepted posts only").isEqualTo(created);

        expectStatus(post(bob, "another user"), 201, "another user meanwhile");
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(250))
                .until(() -> post(ann, "after Retry-After").statusCode() == 201);
    }

    /** The budget spent over REST is spent for the socket too: its sends right after are refused. */
    @Test
    void socketAndRestShareTheUsersBudgetAndTheSocketsRefusalSaysRateLimited() throws Exception {
        int sockets = 3;
        int perSocket = BURST / sockets;
        List<PhoenixTestSocket> open = new ArrayList<>();
        try {
            for (int i = 0; i < sockets; i++) {
                PhoenixTestSocket socket = PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(), chat.tokenFor(ann));
                open.add(socket);
                socket.joinChat(Map.of());
            }
            List<Supplier<Response>> posts = new ArrayList<>();
            for (int i = 0; i < 2 * BURST; i++) {
                String content = "rest " + i;
                posts.add(() -> post(ann, content));
            }
            long start = System.nanoTime();
            long overRest = Parallel.run(posts).stream().filter(response -> response.statusCode() == 201).count();
            assertThat(overRest).as("REST posts accepted of %d at once", posts.size()).isLessThan(posts.size());

            // Several sockets, so that their sends are handled at once, as fast as REST's.
            Map<PhoenixTestSocket, List<String>> refs = new LinkedHashMap<>();
            for (PhoenixTestSocket socket : open) {
                List<String> sent = new ArrayList<>();
                for (int i = 0; i < perSocket; i++) {
                    sent.add(socket.push("room:chat", "send_msg", Map.of("user", bob, "conv", conversation, "message", "socket " + i)));
                }
                refs.put(socket, sent);
            }
            List<JsonNode> replies = new ArrayList<>();
            refs.forEach((socket, sent) -> sent.forEach(ref -> replies.add(socket.awaitReply(ref))));
            double seconds = (System.nanoTime() - start) / 1e9;

            long overSocket = replies.stream().filter(reply -> "ok".equals(reply.path("status").asText())).count();
            assertThat(replies).as("socket replies right after the REST burst").filteredOn(reply -> !"ok".equals(reply.path("status").asText()))
                    .isNotEmpty().allSatisfy(reply -> assertThat(reply.at("/response/reason").asText()).contains("rate limited"));
            assertThat(overRest + overSocket).as("messages accepted in %.2f s over REST and the socket together", seconds)
                    .isBetween((long) BURST, BURST + (long) Math.ceil(seconds * RATE));
            assertThat(chat.countMessages(conversation)).as("stored: the accepted ones only").isEqualTo(overRest + overSocket);
        } finally {
            open.forEach(PhoenixTestSocket::close);
        }
    }

    /**
     * Refused frames are answered at once, without waiting; a client that goes on sending them regardless (past 300
     * refusals beyond 100 per second) is closed rather than answered frame by frame.
     */
    @Test
    void socketThatGoesOnSendingPastTheRateIsClosedWith1008() {
        int chunk = 50;
        int rateLimited = 0;
        Set<String> accepted = new HashSet<>();
        Set<String> refused = new HashSet<>();
        // frames sent whose reply has not been read yet: ref -> content
        Map<String, String> unanswered = new LinkedHashMap<>();
        int sent = 0;
        Integer code = null;
        long start = System.nanoTime();
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(), chat.tokenFor(ann))) {
            socket.joinChat(Map.of());
            while (code == null && sent < 100 * chunk) {
                String last = null;
                try {
                    for (int i = 0; i < chunk; i++, sent++) {
                        String content = "flood " + sent;
                        last = socket.push("room:chat", "send_msg", Map.of("conv", conversation, "message", content));
                        unanswered.put(last, content);
                    }
                    String awaited = last;
                    socket.await(frame -> "phx_reply".equals(frame.path(3).asText()) && awaited.equals(frame.path(1).asText()),
                            Duration.ofSeconds(3), "reply to " + last);
                } catch (RuntimeException | AssertionError closedMeanwhile) {
                    // closed while sending or before the last reply
                }
                rateLimited += readReplies(socket, unanswered, accepted, refused);
                code = socket.awaitServerClose(Duration.ZERO);
            }
            if (code == null) {
                code = socket.awaitServerClose(PhoenixTestSocket.WAIT);
            }
            // every reply the server sent came before its close frame: read the ones that arrived after the last pass
            rateLimited += readReplies(socket, unanswered, accepted, refused);
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        assertThat(code).as("close code after %d frames, %d accepted, %d refused as rate limited, in %.2f s", sent, accepted.size(),
                rateLimited, seconds).isEqualTo(1008);
        assertThat(rateLimited).as("rate limited replies before the close").isGreaterThanOrEqualTo(10 * BURST);
        assertThat(accepted.size()).as("accepted").isBetween(BURST, BURST + (int) Math.ceil(seconds * RATE));
        // A frame in flight when the socket closed may be stored with its reply lost (the client re-sends it with its
        // client_id); nothing refused is ever stored, nothing accepted is missing.
        List<String> stored = chat.contentsOf(conversation);
        assertThat(stored).as("stored: every accepted message").containsAll(accepted);
        assertThat(stored).as("stored: no refused message").doesNotContainAnyElementsOf(refused);
        assertThat(stored).as("stored: accepted ones and at most those that got no reply").hasSizeLessThanOrEqualTo(
                accepted.size() + unanswered.size());
    }

    /** Reads the replies already received for {@code unanswered} frames into accepted and refused; the rate-limited count. */
    private static int readReplies(PhoenixTestSocket socket, Map<String, String> unanswered, Set<String> accepted,
            Set<String> refused) {
        int rateLimited = 0;
        for (var it = unanswered.entrySet().iterator(); it.hasNext();) {
            var sentFrame = it.next();
            JsonNode reply;
            try {
                reply = socket.await(frame -> "phx_reply".equals(frame.path(3).asText())
                        && sentFrame.getKey().equals(frame.path(1).asText()), Duration.ZERO, "reply to " + sentFrame.getKey()).get(4);
            } catch (AssertionError noReplyYet) {
                continue;
            }
            it.remove();
            if ("ok".equals(reply.path("status").asText())) {
                accepted.add(sentFrame.getValue());
            } else {
                refused.add(sentFrame.getValue());
                if (reply.at("/response/reason").asText().contains("rate limited")) {
                    rateLimited++;
                }
            }
        }
        return rateLimited;
    }

    private Response post(long user, String content) {
        return chat.as(user).body(Map.of("content", content)).post(messagesOf(conversation));
    }

    /** Read markers over REST and typing on the socket share one budget; past it, 429 and error replies, nothing moved. */
    @Test
    void readMarkersAndTypingPastTheirBurstAreRefused() throws Exception {
        long id = chat.post(bob, conversation, "to be read");
        List<Supplier<Response>> marks = new ArrayList<>();
        for (int i = 0; i < 6 * SIGNAL_RATE; i++) {
            marks.add(() -> chat.as(ann).body(Map.of("message_id", id)).post(Chat.conversationOf(conversation) + "/read"));
        }
        List<Response> responses = Parallel.run(marks);
        List<Response> refused = responses.stream().filter(r -> r.statusCode() != 204).toList();
        assertThat(refused).as("marks past the burst of %d", 3 * SIGNAL_RATE).isNotEmpty().allSatisfy(response -> {
            expectStatus(response, 429, "mark past the burst");
            assertThat(response.jsonPath().getString("message")).contains("rate limited");
            assertThat(response.header("Retry-After")).isNotBlank();
        });
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect("ws://" + root.getHost() + ":" + root.getPort(),
                chat.tokenFor(ann))) {
            socket.joinChat(Map.of());
            JsonNode reply = null;
            for (int i = 0; i < 3 * SIGNAL_RATE && (reply == null || "ok".equals(reply.get("status").asText())); i++) {
                reply = socket.awaitReply(socket.push("room:chat", "typing", Map.of("conv", conversation)));
            }
            assertThat(reply.get("status").asText()).as("typing right after, one by one: %s", reply).isEqualTo("error");
            assertThat(reply.at("/response/reason").asText()).contains("rate limited");
        }
        expectStatus(chat.as(bob).body(Map.of("message_id", id)).post(Chat.conversationOf(conversation) + "/read"), 204,
                "another user meanwhile");
    }
}
