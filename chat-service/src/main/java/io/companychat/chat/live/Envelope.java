package io.companychat.chat.live;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.live.LiveEvent.ContactsChanged;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.ConversationRemoved;
import io.companychat.chat.live.LiveEvent.MessagesMissed;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessagePushed;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.live.LiveEvent.PresenceChanged;
import io.companychat.chat.live.LiveEvent.ReadMoved;
import io.companychat.chat.live.LiveEvent.Typing;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * One event on the bus (a PostgreSQL notification holds a JSON array of them, a NATS message one): {@code type} {@code m} (a message, to the members {@code to}
 * but the socket {@code origin}), {@code c} (a conversation, to its members), {@code r}
 * ({@code user_id} removed from {@code conversation_id}), {@code rd} ({@code user_id}'s read
 * marker moved to {@code message_id}, to {@code to} but {@code origin}) or {@code t}
 * ({@code user_id} typing, to the others of {@code to}), {@code p} (a presence meta of
 * {@code user_id}: {@code origin} its phx_ref, {@code message_id} its online_at,
 * {@code joined} whether it joined or left), {@code u} / {@code d} (a message edited / deleted, to
 * {@code to}), {@code k} (the contacts of {@code to} changed) or {@code mp} (NATS only: a new message as its ready
 * {@code receive_msg} push {@code frame}, with {@code message_id}, {@code conversation_id} and {@code inserted_at} in
 * microseconds) or {@code mm} (PostgreSQL only: a replica died, what was stored from {@code inserted_at}, in
 * microseconds, is to be read again for every replica's sockets). {@code message} and
 * {@code conversation} are null when they would not fit; their ids are then read back.
 * {@code receipt} names an in-transaction event, for the replica that sent it to know when it
 * has delivered it itself.
 */
@RegisterForReflection
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Envelope(String type, String origin, long[] to, Long messageId, MessageView message,
        Long conversationId, ConversationView conversation, Long userId, String receipt, Boolean joined, String frame,
        Long insertedAt) {

    static final String MESSAGE = "m";
    static final String CONVERSATION = "c";
    static final String REMOVED = "r";
    static final String READ = "rd";
    static final String TYPING = "t";
    static final String PRESENCE = "p";
    static final String CONTACTS = "k";
    static final String EDITED = "u";
    static final String DELETED = "d";
    static final String PUSH = "mp";
    /** {@link MessagesMissed}: {@code insertedAt} holds its instant (microseconds since the epoch). */
    static final String MISSED = "mm";

    static Envelope of(LiveEvent event, String receipt) {
        if (event instanceof MessageStored stored) {
            return new Envelope(MESSAGE, stored.originConnectionId(), stored.memberIds(), stored.message().id(),
                    stored.message(), null, null, null, receipt, null, null, null);
        }
        if (event instanceof ConversationChanged changed) {
            return new Envelope(CONVERSATION, null, null, null, null, changed.conversation().id(),
                    changed.conversation(), null, receipt, null, null, null);
        }
        if (event instanceof ReadMoved read) {
            return new Envelope(READ, read.originConnectionId(), read.memberIds(), read.messageId(), null,
                    read.conversationId(), null, read.userId(), receipt, null, null, null);
        }
        if (event instanceof MessageChanged changed) {
            return new Envelope(changed.deleted() ? DELETED : EDITED, null, changed.memberIds(), changed.message().id(),
                    changed.message(), null, null, null, receipt, null, null, null);
        }
        if (event instanceof PresenceChanged presence) {
            return new Envelope(PRESENCE, presence.phxRef(), null, presence.onlineAt(), null, null, null,
                    presence.userId(), null, presence.joined(), null, null);
        }
        if (event instanceof ContactsChanged contacts) {
            return new Envelope(CONTACTS, null, contacts.userIds(), null, null, null, null, null, null, null, null, null);
        }
        if (event instanceof Typing typing) {
            return new Envelope(TYPING, null, typing.memberIds(), null, null, typing.conversationId(), null,
                    typing.userId(), receipt, null, null, null);
        }
        if (event instanceof MessagesMissed missed) {
            return new Envelope(MISSED, null, null, null, null, null, null, null, null, null, null,
                    ChronoUnit.MICROS.between(Instant.EPOCH, missed.since()));
        }
        ConversationRemoved removed = (ConversationRemoved) event;
        return new Envelope(REMOVED, null, null, null, null, removed.conversationId(), null, removed.userId(),
                receipt, null, null, null);
    }

    /**
     * A stored message as its {@code receive_msg} push (written by the sender's replica) and what delivery needs besides
     * ({@code insertedAt} in microseconds since the epoch, for the delivery lag), without addressees: what NATS carries.
     */
    static Envelope push(MessageStored stored) {
        Instant at = stored.message().insertedAt();
        return new Envelope(PUSH, stored.originConnectionId(), null, stored.message().id(), null,
                stored.message().conversationId(), null, null, null, null, stored.frame(),
                at == null ? null : ChronoUnit.MICROS.between(Instant.EPOCH, at));
    }

    /** The envelope without its addressees: on a per-user subject, the subject says whom it goes to. */
    Envelope withoutAddressees() {
        return new Envelope(type, origin, null, messageId, message, conversationId, conversation, userId, receipt, joined, frame,
                insertedAt);
    }

    /** The envelope addressed to one user only. */
    Envelope to(long addressee) {
        return new Envelope(type, origin, new long[] { addressee }, messageId, message, conversationId, conversation, userId,
                receipt, joined, frame, insertedAt);
    }

    Envelope withoutBody() {
        return new Envelope(type, origin, to, messageId, null, conversationId, null, userId, receipt, joined, frame, insertedAt);
    }

    /** The event, or null when its body has to be read back. */
    LiveEvent event() {
        return switch (type) {
            case MESSAGE -> message == null || to == null ? null : new MessageStored(message, to, origin);
            case PUSH -> frame == null || messageId == null || conversationId == null || to == null ? null
                    : new MessagePushed(messageId, conversationId,
                            insertedAt == null ? null : Instant.EPOCH.plus(insertedAt, ChronoUnit.MICROS), frame, to, origin);
            case CONVERSATION -> conversation == null ? null : new ConversationChanged(conversation);
            case REMOVED -> conversationId == null || userId == null ? null
                    : new ConversationRemoved(conversationId, userId);
            case READ -> conversationId == null || userId == null || messageId == null || to == null ? null
                    : new ReadMoved(conversationId, userId, messageId, to, origin);
            case TYPING -> conversationId == null || userId == null || to == null ? null
                    : new Typing(conversationId, userId, to);
            case PRESENCE -> userId == null || origin == null || messageId == null || joined == null ? null
                    : new PresenceChanged(userId, origin, messageId, joined);
            case CONTACTS -> to == null ? null : new ContactsChanged(to);
            case MISSED -> insertedAt == null ? null : new MessagesMissed(Instant.EPOCH.plus(insertedAt, ChronoUnit.MICROS));
            case EDITED, DELETED -> message == null || to == null ? null : new MessageChanged(message, to, DELETED.equals(type));
            default -> null;
        };
    }
}
