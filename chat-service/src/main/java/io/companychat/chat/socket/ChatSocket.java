package io.companychat.chat.socket;

import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.quarkus.logging.Log;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.InboundProcessingMode;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.Uni;

/**
 * The chat socket: Phoenix Channels over WebSocket (serializer 2.0.0), authenticated at the
 * upgrade by {@link SocketAuthenticator} (and {@link OriginCheck}). Frames of one socket are handled one after
 * another, with a bounded number waiting ({@link InboundFrames}, rather than websockets-next's per-connection
 * queue). Opening and
 * closing stay in order with the frames: all three callbacks run on the connection's event loop
 * (non-blocking), dispatched in the order the events came.
 */
@WebSocket(path = ChatSocket.PATH, endpointId = ChatSocket.ENDPOINT_ID, inboundProcessingMode = InboundProcessingMode.CONCURRENT)
public class ChatSocket {

    static final String PATH = "/socket/websocket";
    static final String ENDPOINT_ID = "chat-socket";
    private static final String VERTX_WEBSOCKET = "io.vertx.core.http.impl.WebSocketImplBase";
    private static final CloseReason MESSAGE_TOO_BIG = new CloseReason(WebSocketCloseStatus.MESSAGE_TOO_BIG.code(),
            "message too big");

    private final SocketSessions sessions;
    private final InboundFrames inbound;
    private final PresenceTracker presence;

    public ChatSocket(SocketSessions sessions, InboundFrames inbound, PresenceTracker presence) {
        this.sessions = sessions;
        this.inbound = inbound;
        this.presence = presence;
    }

    @OnOpen
    @NonBlocking
    public void opened(WebSocketConnection connection) {
        sessions.open(connection);
    }

    @OnTextMessage
    public Uni<Void> received(String text, WebSocketConnection connection) {
        return inbound.received(sessions.of(connection), text);
    }

    @OnClose
    @NonBlocking
    public void closed(WebSocketConnection connection) {
        SocketSession session = sessions.closed(connection);
        if (session != null) {
            presence.left(session).subscribe().with(ok -> {
            }, failure -> Log.warnf("Presence leave failed: %s", failure.toString()));
        }
    }

    /** A frame that breaks the protocol closes the socket with the status Netty gives it (1009 for one too big). */
    @OnError
    public Uni<Void> corruptFrame(CorruptedWebSocketFrameException failure, WebSocketConnection connection) {
        return connection.close(new CloseReason(failure.closeStatus().code(), failure.closeStatus().reasonText()));
    }

    /**
     * Vert.x refuses a message whose frames add up to more than the limit with an {@link IllegalStateException} from
     * its frame aggregator: that is the client's fault, 1009 (message too big). Unhandled it would close with 1011
     * (server error), as any other failure still does.
     */
    @OnError
    public Uni<Void> illegalState(IllegalStateException failure, WebSocketConnection connection) {
        StackTraceElement[] trace = failure.getStackTrace();
        if (trace.length > 0 && trace[0].getClassName().startsWith(VERTX_WEBSOCKET)) {
            return connection.close(MESSAGE_TOO_BIG);
        }
        Log.errorf(failure, "Socket failed");
        return connection.close(CloseReason.INTERNAL_SERVER_ERROR);
    }
}
