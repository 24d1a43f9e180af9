package io.companychat.chat.socket;

import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Uni;

/**
 * The chat socket: Phoenix Channels over WebSocket (serializer 2.0.0), authenticated at the
 * upgrade by {@link SocketAuthenticator}. Frames of one socket are handled one after another.
 */
@WebSocket(path = "/socket/websocket", endpointId = ChatSocket.ENDPOINT_ID)
public class ChatSocket {

    static final String ENDPOINT_ID = "chat-socket";

    private final SocketSessions sessions;
    private final ChatChannels channels;

    public ChatSocket(SocketSessions sessions, ChatChannels channels) {
        this.sessions = sessions;
        this.channels = channels;
    }

    @OnOpen
    public void opened(WebSocketConnection connection) {
        sessions.open(connection);
    }

    @OnTextMessage
    public Uni<Void> received(String text, WebSocketConnection connection) {
        return channels.handle(sessions.of(connection), text);
    }

    @OnClose
    public void closed(WebSocketConnection connection) {
        sessions.closed(connection);
    }
}
