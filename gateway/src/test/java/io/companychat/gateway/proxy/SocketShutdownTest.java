package io.companychat.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.companychat.gateway.support.RawClient;
import io.companychat.gateway.support.RawSocket;
import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The shutdown close frame (issue 14's decision: kept, since following the service's frame headers costs neither a
 * copy nor an allocation): a client whose service is in the middle of a frame gets the whole frame, then 1001.
 * Inserted at once, the close frame would land inside the frame's payload and corrupt it.
 */
@QuarkusTest
@WithTestResource(StubServicesResource.class)
class SocketShutdownTest {

    @TestHTTPResource("/")
    URL gateway;

    @Inject
    SocketTunnels tunnels;

    @Test
    void goingAwayWaitsForTheEndOfTheFrameTheServiceIsSending() throws Exception {
        RawSocket.reset();
        try (RawClient raw = new RawClient(gateway.getPort())) {
            RawClient.OpenWebSocket ws = raw.openWebSocket(RawSocket.PATH + "?token=abc");
            CompletableFuture<String> closed = new CompletableFuture<>();
            ws.socket().closeHandler(v -> closed.complete(ws.socket().closeStatusCode() + " " + ws.socket().closeReason()));
            ws.socket().writeTextMessage("start");
            // The service wrote this frame and half of the next one in one go: the gateway has read into the next.
            assertThat(ws.nextText()).isEqualTo(RawSocket.FIRST);

            tunnels.goAwayAll();
            RawSocket.finish();

            String rest = ws.nextText();
            assertThat(rest).as("the frame the service was sending").isNotNull().hasSize(RawSocket.LONG_LENGTH);
            assertThat(rest.chars().allMatch(c -> c == RawSocket.LONG_FILL)).as("that frame holds only the service's bytes").isTrue();
            assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo(SocketTunnels.GOING_AWAY + " " + SocketTunnels.GOING_AWAY_REASON);
        }
    }
}
