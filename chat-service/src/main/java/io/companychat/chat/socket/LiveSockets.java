package io.companychat.chat.socket;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.LongPredicate;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.live.LiveEvent;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.ConversationRemoved;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessagePushed;
import io.companychat.chat.live.LiveEvent.MessagesMissed;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.live.LiveEvent.ReadMoved;
import io.companychat.chat.live.LiveEvent.Typing;
import io.companychat.chat.live.LiveEvent.ContactsChanged;
import io.companychat.chat.live.LiveEvent.PresenceChanged;
import io.companychat.chat.live.MemberDirectory;
import io.companychat.chat.live.MessageBus;
import io.companychat.chat.metrics.ChatMetrics;
import io.companychat.chat.repository.MessageRepository.Changed;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Live events to the sockets of the members they concern: this replica's sockets at once, the
 * other replicas' through the {@link MessageBus}. The one path from "committed" to "pushed".
 *
 * <p>A message goes to the members it was stored for (the insert statement read them), so a
 * member removed before the insert never gets it. Someone removed while it was being stored may
 * have been a member for the insert: each replica remembers removals for
 * {@link #REMOVAL_MEMORY_MILLIS} and drops such late messages for them, so that on every socket
 * {@code conversation_removed} is the last event of that conversation (until they are added again).
 * A removal is remembered before its frame is queued, and a late frame is checked against the
 * removals again under the socket's lock, so a message racing the removal on another thread is
 * either queued before {@code conversation_removed} or dropped.
 *
 * <p>After a loss of the bus ({@link MissedMessages}) the messages stored meanwhile are read again and pushed, but
 * those this replica delivered already: it keeps the ids of the last {@value #DELIVERED_MEMORY} messages it delivered.
 */
@ApplicationScoped
public class LiveSockets {

    public static final String RECEIVE_MSG = "receive_msg";
    public static final String CONVERSATION = "conversation";
    public static final String CONVERSATION_REMOVED = "conversation_removed";
    public static final String READ = "read";
    public static final String MESSAGE_UPDATED = "message_updated";
    public static final String MESSAGE_DELETED = "message_deleted";
    public static final String TYPING = "typing";
    /** Far longer than any message takes from its insert to a socket. */
    static final long REMOVAL_MEMORY_MILLIS = 60_000;
    /**
     * Message ids remembered as delivered here (2 MB): at 5,000 messages a second, the last 52 seconds, more than a loss
     * of the bus and the time it takes to notice it ({@code MessageBus.LOSS_NOTICED_WITHIN}).
     */
    static final int DELIVERED_MEMORY = 1 << 18;
    /** Frames that are not messages: never dropped as already replayed by a catch-up. */
    private static final long NOT_A_MESSAGE = Long.MAX_VALUE;

    private final SocketSessions sessions;
    private final PhoenixProtocol protocol;
    private final SocketConfig config;
    private final MessageBus bus;
    private final MemberDirectory members;
    private final PresenceTracker presence;
    private final Vertx vertx;
    private final ChatMetrics metrics;
    private final MissedMessages missed;
    private final RecentIds delivered = new RecentIds(DELIVERED_MEMORY);
    /** Who was removed from which conversation, until when (epoch millis). */
    private final Map<Membership, Long> removed = new ConcurrentHashMap<>();

    public LiveSockets(SocketSessions sessions, PhoenixProtocol protocol, SocketConfig config, MessageBus bus,
            MemberDirectory members, PresenceTracker presence, Vertx vertx, ChatMetrics metrics, MissedMessages missed) {
        this.metrics = metrics;
        this.missed = missed;
        this.presence = presence;
        this.sessions = sessions;
        this.protocol = protocol;
        this.config = config;
        this.bus = bus;
        this.members = members;
        this.vertx = vertx;
    }

    void start(@Observes StartupEvent startup) {
        bus.subscribe(this::deliver, members::forgetAll, missedSince -> {
            presence.busRestored();
            missed.readSince(missedSince, this::redeliver);
        });
        // A replica killed between a commit and its announcement: every replica reads again what it may have stored
        // unannounced, from a while before it was last seen (its announcements may lag its heartbeat).
        presence.onReplicaDied(lastSeen -> {
            Instant since = lastSeen.minus(MessageBus.LOSS_NOTICED_WITHIN);
            missed.readSince(since, this::redeliver);
            bus.announceLoss(since);
        });
        vertx.setPeriodic(REMOVAL_MEMORY_MILLIS, id -> forgetOldRemovals());
    }

    /**
     * A committed message, a moved read marker, someone typing: to this replica's sockets now, then
     * to the other replicas. Never fails.
     */
    public void publish(LiveEvent event) {
        LiveEvent written = event;
        try {
            if (event instanceof MessageStored stored && stored.frame() == null && bus.carriesPushFrames()) {
                // Written once, for this replica's sockets and for the bus, which carries it as it is. Other buses
                // carry the message: deliver writes the push only if a socket here needs it.
                written = stored.withFrame(receiveMsg(stored.message()));
            }
            deliver(written);
        } catch (RuntimeException failure) {
            Log.warnf(failure, "Live delivery of a %s failed", event.getClass().getSimpleName());
        }
        bus.publish(written);
    }

    /**
     * A membership change, inside its transaction: delivered by every replica (this one too) once
     * committed, in commit order.
     *
     * @return a stage that completes once this replica's sockets have it (see {@link MessageBus#publishInTransaction})
     */
    public Uni<CompletionStage<Void>> publishInTransaction(SqlConnection transaction, LiveEvent event) {
        return bus.publishInTransaction(transaction, event);
    }

    /** Pushes the event to this replica's sockets of the members it concerns. */
    void deliver(LiveEvent event) {
        if (event instanceof MessageStored stored) {
            MessageView message = stored.message();
            deliverMessage(message.conversationId(), message.id(), message.insertedAt(), stored.memberIds(),
                    stored.originConnectionId(), stored.frame() != null ? stored::frame : () -> receiveMsg(message));
            delivered.add(message.id());
        } else if (event instanceof MessagePushed pushed) {
            deliverMessage(pushed.conversationId(), pushed.messageId(), pushed.insertedAt(), pushed.memberIds(),
                    pushed.originConnectionId(), pushed::frame);
            delivered.add(pushed.messageId());
        } else if (event instanceof MessageChanged changed) {
            deliverToMembers(changed.message().conversationId(), changed.memberIds(), -1, null,
                    () -> protocol.push(ChatChannels.CHAT_TOPIC, changed.deleted() ? MESSAGE_DELETED : MESSAGE_UPDATED,
                            new ReceivedMessage(changed.message())));
        } else if (event instanceof MessagesMissed lost) {
            missed.readSince(lost.since(), this::redeliver);
        } else if (event instanceof PresenceChanged changed) {
            presence.deliver(changed);
        } else if (event instanceof ContactsChanged contacts) {
            presence.contactsChanged(contacts);
        } else if (event instanceof ReadMoved read) {
            deliverToMembers(read.conversationId(), read.memberIds(), -1, read.originConnectionId(),
                    () -> protocol.push(ChatChannels.CHAT_TOPIC, READ, json -> {
                        json.writeStartObject();
                        json.writeNumberField("conversation_id", read.conversationId());
                        json.writeNumberField("user_id", read.userId());
                        json.writeNumberField("message_id", read.messageId());
                        json.writeEndObject();
                    }));
        } else if (event instanceof Typing typing) {
            deliverToMembers(typing.conversationId(), typing.memberIds(), typing.userId(), null,
                    () -> protocol.push(ChatChannels.CHAT_TOPIC, TYPING, json -> {
                        json.writeStartObject();
                        json.writeNumberField("conversation_id", typing.conversationId());
                        json.writeNumberField("user_id", typing.userId());
                        json.writeEndObject();
                    }));
        } else if (event instanceof ConversationChanged changed) {
            members.changed(changed);
            deliverConversation(changed.conversation());
        } else if (event instanceof ConversationRemoved gone) {
            members.changed(gone);
            removed.put(new Membership(gone.conversationId(), gone.userId()),
                    System.currentTimeMillis() + REMOVAL_MEMORY_MILLIS);
            if (sessions.hasAny(gone.userId())) {
                String frame = protocol.push(ChatChannels.CHAT_TOPIC, CONVERSATION_REMOVED,
                        new RemovedConversation(gone.conversationId()));
                sessions.forEachOfUser(gone.userId(),
                        session -> session.deliverLive(NOT_A_MESSAGE, frame, config.maxPendingFrames()));
            }
        }
    }

    /**
     * Messages read again after a loss of the bus, oldest first: each that was not delivered here already goes to the
     * sockets of its members here (as {@code receive_msg}, as a join's catch-up sends them).
     *
     * @return how many were pushed
     */
    int redeliver(List<Changed> stored) {
        if (stored.isEmpty()) {
            return 0;
        }
        LongPredicate known = delivered.heldBetween(stored.get(0).message().id(), stored.get(stored.size() - 1).message().id());
        int pushed = 0;
        for (Changed changed : stored) {
            MessageView message = MessageView.of(changed.message());
            if (known.test(message.id())) {
                continue;
            }
            delivered.add(message.id());
            deliverMessage(message.conversationId(), message.id(), null, changed.memberIds(), null,
                    () -> receiveMsg(message));
            pushed++;
        }
        metrics.caughtUpAfterBusLoss(pushed);
        return pushed;
    }

    /**
     * Every socket of every member, but the one that sent it; {@code frameOf} gives the push, called once at most.
     * {@code insertedAt} dates a live delivery for its latency metric; null for a message read again.
     */
    private void deliverMessage(long conversationId, long id, Instant insertedAt, long[] memberIds, String origin,
            Supplier<String> frameOf) {
        String frame = null;
        int maxPending = config.maxPendingFrames();
        int[] pushed = { 0 };
        for (long memberId : memberIds) {
            if (!sessions.hasAny(memberId) || wasRemoved(conversationId, memberId)) {
                continue;
            }
            if (frame == null) {
                frame = frameOf.get();
            }
            String push = frame;
            BooleanSupplier removedSince = () -> wasRemoved(conversationId, memberId);
            sessions.forEachOfUser(memberId, session -> {
                if (!session.connection.id().equals(origin)) {
                    session.deliverLive(id, push, maxPending, removedSince);
                    pushed[0]++;
                }
            });
        }
        if (insertedAt != null) {
            metrics.messageDelivered(insertedAt, pushed[0]);
        }
    }

    /**
     * A signal (not a message) to every socket of the members but {@code exceptUserId}'s and the
     * socket {@code exceptConnectionId}; the frame is written once, for the first socket found.
     */
    private void deliverToMembers(long conversationId, long[] memberIds, long exceptUserId, String exceptConnectionId,
            Supplier<String> frameOf) {
        String frame = null;
        int maxPending = config.maxPendingFrames();
        for (long memberId : memberIds) {
            if (memberId == exceptUserId || !sessions.hasAny(memberId) || wasRemoved(conversationId, memberId)) {
                continue;
            }
            if (frame == null) {
                frame = frameOf.get();
            }
            String push = frame;
            BooleanSupplier removedSince = () -> wasRemoved(conversationId, memberId);
            sessions.forEachOfUser(memberId, session -> {
                if (!session.connection.id().equals(exceptConnectionId)) {
                    session.deliverLive(NOT_A_MESSAGE, push, maxPending, removedSince);
                }
            });
        }
    }

    private void deliverConversation(ConversationView conversation) {
        String frame = null;
        for (long memberId : conversation.memberIds()) {
            if (!removed.isEmpty()) {
                removed.remove(new Membership(conversation.id(), memberId));
            }
            if (!sessions.hasAny(memberId)) {
                continue;
            }
            if (frame == null) {
                frame = protocol.push(ChatChannels.CHAT_TOPIC, CONVERSATION, new ChangedConversation(conversation.shared()));
            }
            String push = frame;
            sessions.forEachOfUser(memberId, session -> session.deliverLive(NOT_A_MESSAGE, push, config.maxPendingFrames()));
        }
    }

    /** The {@code receive_msg} push of a message. */
    String receiveMsg(MessageView message) {
        return protocol.push(ChatChannels.CHAT_TOPIC, RECEIVE_MSG, new ReceivedMessage(message));
    }

    private boolean wasRemoved(long conversationId, long userId) {
        return !removed.isEmpty() && removed.containsKey(new Membership(conversationId, userId));
    }

    private void forgetOldRemovals() {
        long now = System.currentTimeMillis();
        removed.values().removeIf(until -> until < now);
    }

    private record Membership(long conversationId, long userId) {
    }

    /** The payload of {@code receive_msg}: {@code {"message": message}}. */
    @RegisterForReflection
    public record ReceivedMessage(MessageView message) {
    }

    /** The payload of {@code conversation}: {@code {"conversation": conversation}}. */
    @RegisterForReflection
    public record ChangedConversation(ConversationView conversation) {
    }

    /** The payload of {@code conversation_removed}: {@code {"conversation_id": id}}. */
    @RegisterForReflection
    public record RemovedConversation(long conversationId) {
    }
}
