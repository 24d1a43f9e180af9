package io.companychat.gateway;

import static io.companychat.gateway.support.StubServicesResource.IDLE_TIMEOUT_SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The gateway closes connections that carry nothing either way for {@code GATEWAY_IDLE_TIMEOUT} (60 s deployed,
 * 6 s here), instead of Quarkus's 30 minutes: a client cannot hold the gateway's connections by opening them and
 * going quiet.
 */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class IdleTimeoutTest {

    private static final Duration SLACK = Duration.ofSeconds(5);

    @TestHTTPResource("/")
    URL gateway;

    /**
     * Both kinds of quiet connection in one wait of the idle timeout: one that never sends a request, and a kept-alive
     * one that goes quiet after its first answer. Each is judged from the moment it went quiet.
     */
    @Test
    void connectionThatNeverSendsARequestAndKeptAliveConnectionThatGoesQuietAreClosed() throws Exception {
        try (Socket silent = new Socket(gateway.getHost(), gateway.getPort());
                Socket keptAlive = new Socket(gateway.getHost(), gateway.getPort())) {
            long silentSince = System.nanoTime();
            OutputStream out = keptAlive.getOutputStream();
            out.write(("GET /nowhere HTTP/1.1\r\nHost: " + gateway.getHost() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = keptAlive.getInputStream();
            keptAlive.setSoTimeout(10_000);
            String head = readHead(in);
            assertThat(head).as("the answer to the first request").startsWith("HTTP/1.1 404");
            long answered = System.nanoTime();
            in.skipNBytes(contentLength(head));

            assertClosedByTheGatewayAfterTheIdleTimeout(silent, silentSince, "a connection that never sent a request");
            assertClosedByTheGatewayAfterTheIdleTimeout(keptAlive, answered, "a kept-alive connection after its first answer");
        }
    }

    private static void assertClosedByTheGatewayAfterTheIdleTimeout(Socket socket, long quietSince, String which)
            throws Exception {
        socket.setSoTimeout((int) (IDLE_TIMEOUT_SECONDS * 1000 + SLACK.toMillis()));
        int read;
        try {
            read = socket.getInputStream().read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the gateway kept " + which + " open for more than " + IDLE_TIMEOUT_SECONDS + " s + "
                    + SLACK.toSeconds() + " s");
        }
        Duration quiet = Duration.ofNanos(System.nanoTime() - quietSince);
        assertThat(read).as("end of stream from the gateway on %s", which).isEqualTo(-1);
        assertThat(quiet).as("how long %s stayed open", which)
                .isBetween(Duration.ofSeconds(IDLE_TIMEOUT_SECONDS - 1), Duration.ofSeconds(IDLE_TIMEOUT_SECONDS).plus(SLACK));
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                return Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        return 0;
    }
}
