package io.companychat.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.chat.socket.SocketSessions;
import io.companychat.chat.support.Chat;
import io.companychat.chat.support.DeployedLimits;
import io.companychat.chat.support.InjectUserService;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.RawUpgrade;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * The replica's socket cap ({@code CHAT_MAX_SOCKETS}, {@link DeployedLimits#MAX_SOCKETS} here): an upgrade past it
 * gets 503 with {@code Retry-After: 1} before its token is read, and a socket closing makes room again. Runs in the
 * deployed-limits profile (no Quarkus start of its own).
 */
@QuarkusTest
@TestProfile(DeployedLimits.class)
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class SocketCapacityTest {

    private static final int CAP = DeployedLimits.MAX_SOCKETS;
    private static final Duration SETTLE = Duration.ofSeconds(5);
    /**
     * A socket the server closed for flooding (MessageRateLimitTest, same profile) is reported closed by
     * websockets-next only after Vert.x's WebSocket closing timeout, 10 s, and counts until then.
     */
    private static final Duration EARLIER_SOCKETS_GONE = Duration.ofSeconds(15);

    @InjectTestDatabase
    TestDatabase database;
    @InjectTestTokens
    TestTokens tokens;
    @InjectUserService
    UserServiceDouble userService;
    @TestHTTPResource("/")
    URI root;
    @Inject
    SocketSessions sessions;
    @Inject
    MeterRegistry registry;

    private final List<PhoenixTestSocket> open = new ArrayList<>();
    private Chat chat;
    private long ann;

    @BeforeEach
    void setUp() {
        chat = new Chat(database, userService, tokens);
        ann = chat.newUser("Ann");
        // sockets of an earlier test in this profile may still be closing
        await().atMost(EARLIER_SOCKETS_GONE).until(() -> sessions.openCount() == 0);
    }

    @AfterEach
    void closeSockets() {
        open.forEach(PhoenixTestSocket::close);
        awaitOpen(0);
    }

    @Test
    void upgradePastTheReplicasCapIs503WithRetryAfterBeforeTheTokenIsRead() throws IOException {
        String token = chat.tokenFor(ann);
        for (int i = 0; i < CAP; i++) {
            open.add(PhoenixTestSocket.connect(wsBase(), token));
        }
        awaitOpen(CAP);
        double refusedBefore = refused();

        RawUpgrade withToken = upgrade("?token=" + token + "&vsn=2.0.0");
        assertThat(withToken.status()).as("an upgrade with a valid token when %d sockets are open (the cap)", CAP).isEqualTo(503);
        assertThat(withToken.headers()).as("headers of the 503").containsEntry("retry-after", "1");
        // no token at all: refused as full, not as unauthenticated, so the token was never looked at
        assertThat(upgrade("?vsn=2.0.0").status()).as("an upgrade without a token at the cap").isEqualTo(503);
        assertThat(refused() - refusedBefore).as("chat_socket_upgrades_refused_total{reason=capacity} increase").isEqualTo(2.0);
        assertThat(registry.get("chat.sockets.max").gauge().value()).as("chat_sockets_max").isEqualTo(CAP);

        open.remove(0).close();
        awaitOpen(CAP - 1);
        assertThat(upgrade("?vsn=2.0.0").status()).as("an upgrade without a token below the cap: the token check again").isEqualTo(403);
        open.add(PhoenixTestSocket.connect(wsBase(), token));
        awaitOpen(CAP);
    }

    private void awaitOpen(int sockets) {
        await().atMost(SETTLE).untilAsserted(() -> assertThat(sessions.openCount())
                .as("sockets open on the replica (by user: %d)", sessions.count()).isEqualTo(sockets));
    }

    private double refused() {
        return registry.get("chat.socket.upgrades.refused").tag("reason", "capacity").counter().count();
    }

    private String wsBase() {
        return "ws://" + root.getHost() + ":" + root.getPort();
    }

    /** An upgrade by hand, to read the refusal's headers (the JDK's client keeps only the status). */
    private RawUpgrade upgrade(String query) throws IOException {
        try (RawUpgrade answer = RawUpgrade.open(root.getHost(), root.getPort(), "/socket/websocket" + query, 0, SETTLE)) {
            return answer;
        }
    }
}
