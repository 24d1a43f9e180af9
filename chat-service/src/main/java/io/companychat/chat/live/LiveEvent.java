package io.companychat.chat.live;

import java.time.Instant;

import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessageView;

/**
 * Something that happened (and is committed) which members' sockets should see now, on every
 * replica. Each names whom it goes to, so that a replica delivers it without a database read.
 */
public sealed interface LiveEvent permits LiveEvent.MessageStored, LiveEvent.MessagePushed, LiveEvent.ConversationChanged,
        LiveEvent.ConversationRemoved, LiveEvent.ReadMoved, LiveEvent.Typing, LiveEvent.PresenceChanged,
        LiveEvent.ContactsChanged, LiveEvent.MessageChanged, LiveEvent.MessagesMissed {

    /**
     * A replica died: what it stored from {@code since} on may never have been announced, so every replica reads again
     * what was stored since for its sockets ({@code MissedMessages}). Sent by the replica that reaped the dead one.
     */
    record MessagesMissed(Instant since) implements LiveEvent {
    }

    /**
     * A new message, to every connection of {@code memberIds} (the members when it was stored)
     * but {@code originConnectionId}, the socket that sent it (null when it came over REST).
     * {@code frame} is its {@code receive_msg} push once written (null before): written once per message, for this
     * replica's sockets and for the bus that carries it as it is ({@link MessagePushed}).
     */
    record MessageStored(MessageView message, long[] memberIds, String originConnectionId, String frame) implements LiveEvent {

        public MessageStored(MessageView message, long[] memberIds, String originConnectionId) {
            this(message, memberIds, originConnectionId, null);
        }

        public MessageStored withFrame(String written) {
            return new MessageStored(message, memberIds, originConnectionId, written);
        }
    }

    /**
     * A new message from another replica as its {@code receive_msg} push, ready to send ({@code CHAT_BUS=nats}): the
     * receiving replica neither reads nor writes the message's JSON. To the connections of {@code memberIds} but
     * {@code originConnectionId}, as {@link MessageStored}.
     */
    record MessagePushed(long messageId, long conversationId, Instant insertedAt, String frame, long[] memberIds,
            String originConnectionId) implements LiveEvent {
    }

    /** A group was created, renamed, or its members changed: to every connection of its members now. */
    record ConversationChanged(ConversationView conversation) implements LiveEvent {
    }

    /** {@code userId} left or was removed: to their connections, and nothing of the conversation after it. */
    record ConversationRemoved(long conversationId, long userId) implements LiveEvent {
    }

    /**
     * {@code userId}'s read marker in the conversation moved forward to {@code messageId}: to every
     * connection of {@code memberIds} but {@code originConnectionId} (the socket that sent
     * {@code mark_read}; null when it came over REST).
     */
    record ReadMoved(long conversationId, long userId, long messageId, long[] memberIds, String originConnectionId)
            implements LiveEvent {
    }

    /** {@code userId} is typing in the conversation: to every connection of the other {@code memberIds}. */
    record Typing(long conversationId, long userId, long[] memberIds) implements LiveEvent {
    }

    /**
     * A connection of {@code userId} joined {@code room:chat} ({@code joined}) or left it: one
     * presence meta, to the sockets of that user and of everyone who has them as a contact.
     */
    record PresenceChanged(long userId, String phxRef, long onlineAt, boolean joined) implements LiveEvent {
    }

    /** Who shares a conversation with {@code userIds} may have changed (a new conversation, a member added or removed). */
    record ContactsChanged(long[] userIds) implements LiveEvent {
    }

    /** A message was edited, or deleted ({@code message} is then its tombstone): to every connection of {@code memberIds}. */
    record MessageChanged(MessageView message, long[] memberIds, boolean deleted) implements LiveEvent {
    }
}
