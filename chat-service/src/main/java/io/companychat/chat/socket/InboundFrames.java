package io.companychat.chat.socket;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.service.MessageRateLimiter;
import io.companychat.chat.socket.WaitingFrames.Admission;
import io.quarkus.logging.Log;
import io.quarkus.websockets.next.CloseReason;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Bounded inbound work per socket. A socket's frames are handled one after another ({@link SocketSession#inTurn});
 * while one is being handled (a {@code send_msg} waits for its database round trip), at most
 * {@code chat.socket.max-waiting-frames} frames of {@code chat.socket.max-waiting-chars} characters wait behind it.
 * A frame beyond that is answered at once with an error reply and dropped; a client that goes on sending as many
 * again before its socket has caught up is cut off ({@link #cutOff}: closed with 1008, policy violation). Whatever a client sends, a socket
 * holds at most those frames, and the refusals cost one parse and one small reply each.
 * <p>
 * Frames refused by the message rate are answered at once, so they never wait: a client that goes on sending them
 * regardless would keep an event loop busy answering. Once its user counts as flooding
 * ({@link MessageRateLimiter#isFlooding}), a socket that sends a frame is cut off instead.
 */
@ApplicationScoped
public class InboundFrames {

    static final String SLOW_DOWN = "too many frames waiting, slow down";
    static final CloseReason TOO_MANY_WAITING = new CloseReason(1008, "too many frames waiting");
    static final CloseReason FLOODING = new CloseReason(1008, "rate limited: sending regardless");
    /** How long the close frame has to leave before the TCP connection of an abusive client is closed. */
    static final long CLOSE_FRAME_GRACE_MILLIS = 200;

    private final ChatChannels channels;
    private final PhoenixProtocol protocol;
    private final SocketConfig config;
    private final MessageRateLimiter rateLimiter;
    private final SocketSessions sessions;
    private final Vertx vertx;

    public InboundFrames(ChatChannels channels, PhoenixProtocol protocol, SocketConfig config, MessageRateLimiter rateLimiter,
            SocketSessions sessions, Vertx vertx) {
        this.channels = channels;
        this.protocol = protocol;
        this.config = config;
        this.rateLimiter = rateLimiter;
        this.sessions = sessions;
        this.vertx = vertx;
    }

    Uni<Void> received(SocketSession session, String text) {
        // heard when it comes, not when its turn does: a socket whose frames wait (behind a slow database round
        // trip) is not silent, and the idle sweep must not close it
        session.heard();
        if (rateLimiter.isFlooding(session.userId)) {
            if (session.stopInbound()) {
                Log.debugf("Closing a socket of user %d: it kept sending past the message rate", session.userId);
                return cutOff(session, FLOODING);
            }
            return Uni.createFrom().voidItem();
        }
        return session.inTurn(() -> channels.handle(session, text), text.length(), config.maxWaitingFrames(),
                config.maxWaitingChars(), admission -> refuse(session, text, admission));
    }

    private Uni<Void> refuse(SocketSession session, String text, Admission admission) {
        switch (admission) {
            case REFUSED -> {
                PhoenixFrame frame = protocol.parse(text);
                session.send(frame != null ? protocol.replyError(frame, SLOW_DOWN)
                        : protocol.push(PhoenixProtocol.PHOENIX_TOPIC, PhoenixProtocol.ERROR, Map.of("reason", SLOW_DOWN)),
                        config.maxPendingFrames());
            }
            case CLOSE -> {
                Log.debugf("Closing a socket of user %d: it kept sending faster than it was served", session.userId);
                return cutOff(session, TOO_MANY_WAITING);
            }
            default -> {
                // DROPPED: the socket is being closed.
            }
        }
        return Uni.createFrom().voidItem();
    }

    /**
     * Closes the socket of a client that abuses it, without reading any more of what it sends: the close frame goes
     * out, the connection stops reading at once (what the client keeps sending stays in the TCP buffers, costing
     * nothing here: websockets-next would otherwise read, copy and dispatch every frame until the client answered
     * the close frame, which a flooding client's own frames hold up), and the TCP connection is closed shortly after.
     * The user may open no new socket here for a while ({@link SocketSessions#cutOff}).
     */
    private Uni<Void> cutOff(SocketSession session, CloseReason reason) {
        sessions.cutOff(session.userId);
        Uni<Void> closing = session.connection.close(reason).onFailure().recoverWithNull();
        HttpConnection transport = session.transport;
        if (transport instanceof ConnectionBase tcp) {
            tcp.channel().config().setAutoRead(false);
            vertx.setTimer(CLOSE_FRAME_GRACE_MILLIS, id -> transport.close());
        }
        return closing;
    }
}
