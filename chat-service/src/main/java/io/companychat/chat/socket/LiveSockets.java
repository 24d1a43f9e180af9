package io.companychat.chat.socket;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.fanout.LiveMessage;

/** Pushes {@code receive_msg} to this replica's sockets of a message's two participants. */
@ApplicationScoped
public class LiveSockets {

    private final SocketSessions sessions;
    private final ChatChannels channels;
    private final SocketConfig config;

    public LiveSockets(SocketSessions sessions, ChatChannels channels, SocketConfig config) {
        this.sessions = sessions;
        this.channels = channels;
        this.config = config;
    }

    /** Every socket of the recipient, and every socket of the sender but the one that sent it. */
    public void deliver(LiveMessage message) {
        long recipientId = message.recipientId();
        long senderId = message.senderId();
        if (!sessions.hasAny(recipientId) && !sessions.hasAny(senderId)) {
            return;
        }
        String frame = channels.receiveMsg(message.message());
        long id = message.message().id();
        int maxPending = config.maxPendingFrames();
        String origin = message.originConnectionId();
        sessions.forEachOfUser(recipientId, session -> session.deliverLive(id, frame, maxPending));
        sessions.forEachOfUser(senderId, session -> {
            if (!session.connection.id().equals(origin)) {
                session.deliverLive(id, frame, maxPending);
            }
        });
    }
}
