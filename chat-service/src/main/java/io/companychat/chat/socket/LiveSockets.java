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
        SocketSession[] recipients = sessions.ofUser(message.recipientId());
        SocketSession[] senders = sessions.ofUser(message.senderId());
        if (recipients.length == 0 && senders.length == 0) {
            return;
        }
        String frame = channels.receiveMsg(message.message());
        long id = message.message().id();
        for (SocketSession session : recipients) {
            session.deliverLive(id, frame, config.maxPendingFrames());
        }
        for (SocketSession session : senders) {
            if (!session.connection.id().equals(message.originConnectionId())) {
                session.deliverLive(id, frame, config.maxPendingFrames());
            }
        }
    }
}
