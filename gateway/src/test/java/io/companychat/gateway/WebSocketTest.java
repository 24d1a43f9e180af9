package io.companychat.gateway;

import static io.companychat.gateway.support.RawSocket.FAREWELL_CLOSE;
import static io.companychat.gateway.support.RawSocket.FAREWELL_FRAMES;
import static io.companychat.gateway.support.RawSocket.FAREWELL_FRAME_LENGTH;
import static io.companychat.gateway.support.RawSocket.FAREWELL_PATH;
import static io.companychat.gateway.support.StubServicesResource.ECHO_PREFIX;
import static io.companychat.gateway.support.StubServicesResource.FLOOD_CAP;
import static io.companychat.gateway.support.StubServicesResource.FLOOD_FRAME;
import static io.companychat.gateway.support.StubServicesResource.FULL_SOCKET_PATH;
import static io.companychat.gateway.support.StubServicesResource.REQUEST_TIMEOUT_SECONDS;
import static io.companychat.gateway.support.StubServicesResource.SILENT_SOCKET_PATH;
import static io.companychat.gateway.support.StubServicesResource.WHOAMI_FRAME;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import io.companychat.common.testing.RawUpgrade;
import io.companychat.gateway.support.ManagementUrls;
import io.companychat.gateway.support.RawClient;
import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;

/** WebSocket upgrades are tunnelled to chat-service and carry frames both ways. */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebSocketTest {

    private static final String SOCKET_URI = "/socket/websocket?token=abc&vsn=2.0.0";
    private static final String SPOOFED_ADDRESS = "203.0.113.7";
    private static final String[] FRAMES = { "[\"1\",\"1\",\"room:chat\",\"phx_join\",{}]", "hello", "ünïcødé ✓" };

    @TestHTTPResource("/")
    URL gateway;

    @Inject
    Vertx vertx;

    private RawClient raw;

    @BeforeAll
    void openClient() {
        raw = new RawClient(gateway.getPort());
    }

    @AfterAll
    void closeClient() throws Exception {
        raw.close();
    }

    /**
     * The tunnels' channels come from Vert.x's transport (SocketTunnels): on Linux (x86-64 and arm64, the CPUs whose
     * files the build carries) it must be Netty's native epoll (the dependency and
     * quarkus.vertx.prefer-native-transport), whose channels hold less per socket than NIO's.
     */
    @Test
    void connectionsRunOnTheNativeEpollTransportOnLinux() {
        Assumptions.assumeTrue(System.getProperty("os.name").startsWith("Linux")
                && List.of("amd64", "x86_64", "aarch64").contains(System.getProperty("os.arch")),
                "the build carries epoll's files for x86-64 and arm64 Linux only");
        assertThat(vertx.isNativeTransportEnabled()).as("native transport (unavailable because: %s)",
                vertx.unavailableNativeTransportCause()).isTrue();
    }

    /** One event loop per core (EventLoopsPerCore), not Quarkus's two: a relay's loops only take turns on the cores. */
    @Test
    void oneEventLoopPerCore() {
        int loops = 0;
        for (var ignored : ((VertxInternal) vertx).getEventLoopGroup()) {
            loops++;
        }
        assertThat(loops).as("event loops").isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void webSocketEchoesFramesBothWays() throws Exception {
        RawClient.OpenWebSocket ws = raw.openWebSocket(SOCKET_URI);
        try {
            for (String frame : FRAMES) {
                ws.socket().writeTextMessage(frame);
                assertThat(ws.nextText()).as("echo of %s through the gateway", frame).isEqualTo(ECHO_PREFIX + frame);
            }
        } finally {
            ws.socket().close();
        }
    }

    /**
     * A message larger than the tunnel's write queue (64 KB) goes through whole in both directions: reading the client
     * stops while the service's queue is full and resumes when it drains (a resume lost between the two, when the
     * flush drains the queue at once, would leave the tunnel stalled).
     */
    @Test
    void messagesLargerThanTheWriteQueueGoThroughWhole() throws Exception {
        RawClient.OpenWebSocket ws = raw.openWebSocket(SOCKET_URI);
        try {
            for (int i = 0; i < 3; i++) {
                String large = Integer.toString(i).repeat(200_000);
                ws.socket().writeTextMessage(large);
                String echo = ws.nextText();
                assertThat(echo).as("echo of a 200,000-character message, %d", i).isNotNull();
                assertThat(echo.equals(ECHO_PREFIX + large)).as("echo %d whole (%d characters)", i, echo.length()).isTrue();
            }
        } finally {
            ws.socket().close();
        }
    }

    /**
     * When the service closes a socket, what it wrote before reaches the client whole, its close frame last, even a
     * client that reads slowly: the gateway closes the client's connection once what is queued for it is written (a
     * close at once dropped the queue's tail, the close frame with it).
     */
    @Test
    void aServiceThatClosesReachesASlowClientWithEveryByteAndItsCloseFrame() throws Exception {
        try (Socket client = upgraded(FAREWELL_PATH + "?token=abc")) {
            Received received = readUntilClosed(client);
            assertThat(received.bytes()).as("bytes received before the close")
                    .isEqualTo(FAREWELL_FRAMES * (10L + FAREWELL_FRAME_LENGTH) + FAREWELL_CLOSE.length);
            assertThat(received.tail()).as("the last bytes: the service's close frame").containsExactly(FAREWELL_CLOSE);
        }
    }

    /** A WebSocket on a plain socket with a small receive buffer (a client that reads slowly fills it), its 101 read. */
    private Socket upgraded(String uri) throws Exception {
        RawUpgrade upgrade = RawUpgrade.open("localhost", gateway.getPort(), uri, 8 * 1024, Duration.ofSeconds(10));
        assertThat(upgrade.status()).as("the upgrade's status (headers %s)", upgrade.headers()).isEqualTo(101);
        return upgrade.socket();
    }

    private record Received(long bytes, byte[] tail) {
    }

    /** Reads to the end of the stream, slowly: 16 KB at a time, 1 ms between reads. */
    private static Received readUntilClosed(Socket client) throws Exception {
        InputStream in = client.getInputStream();
        byte[] buffer = new byte[16 * 1024];
        byte[] tail = new byte[4];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0;) {
            for (int i = Math.max(0, n - tail.length); i < n; i++) {
                System.arraycopy(tail, 1, tail, 0, tail.length - 1);
                tail[tail.length - 1] = buffer[i];
            }
            total += n;
            Thread.sleep(1);
        }
        return new Received(total, tail);
    }

    @Test
    void webSocketUpgradeCarriesQueryAndClientAddress() throws Exception {
        RawClient.OpenWebSocket ws = raw.openWebSocket(SOCKET_URI, "X-Forwarded-For", SPOOFED_ADDRESS,
                "X-Real-IP", SPOOFED_ADDRESS, "X-Forwarded-Proto", "https", "X-Forwarded-Prefix", "/internal",
                "X-Service-Token", "guessed-credential");
        try {
            ws.socket().writeTextMessage(WHOAMI_FRAME);
            String reply = ws.nextText();
            assertThat(reply).as("chat-service's description of the upgrade").isNotNull();
            JsonObject upgrade = new JsonObject(reply);

            assertThat(upgrade.getString("path")).isEqualTo("/socket/websocket");
            assertThat(upgrade.getString("query")).isEqualTo("token=abc&vsn=2.0.0");
            String forwardedFor = upgrade.getJsonObject("headers").getString("x-forwarded-for");
            assertThat(forwardedFor).doesNotContain(SPOOFED_ADDRESS);
            assertThat(InetAddress.getByName(forwardedFor).isLoopbackAddress())
                    .as("X-Forwarded-For %s is the test client's loopback address", forwardedFor).isTrue();
            assertThat(upgrade.getJsonObject("headers").getString("x-real-ip")).isNull();
            for (String header : new String[] { "x-forwarded-proto", "x-forwarded-prefix", "x-service-token" }) {
                assertThat(upgrade.getJsonObject("headers").getString(header)).as("client-sent %s on the upgrade", header).isNull();
            }
        } finally {
            ws.socket().close();
        }
    }

    @Test
    void aClientThatDoesNotReadStopsTheServiceInsteadOfFillingTheGateway() throws Exception {
        StubServicesResource.resetFlood();
        RawClient.OpenWebSocket ws = raw.openWebSocket(SOCKET_URI);
        try {
            ws.socket().pause();
            ws.socket().writeTextMessage(FLOOD_FRAME);

            // Without backpressure the gateway reads all the service writes into its own memory, up to the stub's cap
            // (256 MB); with it, the service stops once the kernel's socket buffers on both sides and the gateway's
            // 64 KB write queue are full: a few MB on loopback.
            long written = StubServicesResource.flooded().get(60, TimeUnit.SECONDS);
            assertThat(written).as("bytes the service could write to a client that reads nothing").isLessThan(FLOOD_CAP / 4);
        } finally {
            ws.socket().close();
        }
    }

    /**
     * A tunnel's client connection is taken from Vert.x at the switch (ClientConnection), so Vert.x no longer reports
     * its end to the HTTP server metrics: the tunnel does. Closed tunnels leave no open connection and no request in
     * flight behind in them (a leak here would grow with every socket ever opened).
     */
    @Test
    void closedTunnelsLeaveNoConnectionOrRequestInTheMetrics() throws Exception {
        double connectionsBefore = metric(OPEN_CONNECTIONS);
        double requestsBefore = metric(ACTIVE_REQUESTS);
        List<RawClient.OpenWebSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                RawClient.OpenWebSocket ws = raw.openWebSocket(SOCKET_URI);
                sockets.add(ws);
                ws.socket().writeTextMessage(FRAMES[1]);
                assertThat(ws.nextText()).as("echo through tunnel %d", i).isEqualTo(ECHO_PREFIX + FRAMES[1]);
            }
            assertThat(metric(OPEN_CONNECTIONS)).as("open connections with 3 tunnels").isGreaterThanOrEqualTo(connectionsBefore + 3);
            assertThat(metric(OPEN_TUNNELS)).as("gateway_tunnels_open with 3 tunnels").isGreaterThanOrEqualTo(3);
            assertThat(metric("gateway_tunnels_max")).as("gateway_tunnels_max").isPositive();
        } finally {
            sockets.forEach(ws -> ws.socket().close());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(metric(OPEN_CONNECTIONS)).as("open connections after the tunnels closed").isLessThanOrEqualTo(connectionsBefore);
            assertThat(metric(ACTIVE_REQUESTS)).as("requests in flight after the tunnels closed").isLessThanOrEqualTo(requestsBefore);
            assertThat(metric(OPEN_TUNNELS)).as("gateway_tunnels_open after the tunnels closed").isZero();
        });
    }

    private static final String OPEN_CONNECTIONS = "http_server_connections_seconds_active_count";
    private static final String ACTIVE_REQUESTS = "http_server_active_requests";
    private static final String OPEN_TUNNELS = "gateway_tunnels_open";

    /**
     * The sum of a metric's samples (every label set) on the management port, read on a connection closed after it
     * (the management server's connections count in the same metric).
     */
    private static double metric(String name) {
        String text = given().header("Connection", "close").get(ManagementUrls.of("/q/metrics")).then().statusCode(200).extract().asString();
        return text.lines().filter(line -> line.startsWith(name + " ") || line.startsWith(name + "{"))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void idleWebSocketOutlivesTheRequestTimeout() throws Exception {
        RawClient.OpenWebSocket ws = raw.openWebSocket(SOCKET_URI);
        try {
            Thread.sleep(TimeUnit.SECONDS.toMillis(REQUEST_TIMEOUT_SECONDS + 1));
            ws.socket().writeTextMessage(FRAMES[1]);

            assertThat(ws.nextText()).as("echo after idling past the request timeout").isEqualTo(ECHO_PREFIX + FRAMES[1]);
        } finally {
            ws.socket().close();
        }
    }

    @Test
    void webSocketUpgradeNeverAnsweredIs502() throws Exception {
        Throwable failure = raw.failedWebSocket(SILENT_SOCKET_PATH + "?token=abc");

        assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
        assertThat(((UpgradeRejectedException) failure).getStatus()).isEqualTo(502);
    }

    @Test
    void webSocketRefusedByTheServiceKeepsItsStatus() throws Exception {
        Throwable failure = raw.failedWebSocket("/socket/other?token=abc");

        assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
        assertThat(((UpgradeRejectedException) failure).getStatus()).isEqualTo(404);
    }

    /** A full chat replica's refusal (CHAT_MAX_SOCKETS) reaches the client whole: its status and when to retry. */
    @Test
    void webSocketRefusedByAFullReplicaIs503WithItsRetryAfter() throws Exception {
        Throwable failure = raw.failedWebSocket(FULL_SOCKET_PATH + "?token=abc");

        assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
        UpgradeRejectedException rejected = (UpgradeRejectedException) failure;
        assertThat(rejected.getStatus()).isEqualTo(503);
        assertThat(rejected.getHeaders().get("Retry-After")).as("Retry-After passed through").isEqualTo("1");
    }

    @Test
    void webSocketWithNonNormalizedPathIs400() throws Exception {
        Throwable failure = raw.failedWebSocket("/socket//websocket?token=abc");

        assertThat(failure).isInstanceOf(UpgradeRejectedException.class);
        UpgradeRejectedException rejected = (UpgradeRejectedException) failure;
        assertThat(rejected.getStatus()).isEqualTo(400);
        assertThat(new JsonObject(rejected.getBody()).getString("message")).isNotBlank();
    }
}
