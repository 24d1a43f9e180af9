package io.companychat.chat.live;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.ContactsChanged;
import io.companychat.chat.live.LiveEvent.ConversationRemoved;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.live.LiveEvent.PresenceChanged;
import io.companychat.chat.live.LiveEvent.ReadMoved;
import io.companychat.chat.live.LiveEvent.Typing;
import io.companychat.chat.repository.ConversationRepository;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.common.notify.PgNotifications;
import io.quarkus.logging.Log;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * {@link MessageBus} over PostgreSQL {@code NOTIFY chat_message}. Every replica listens and
 * delivers what the others published to its sockets.
 *
 * <p>A notification is {@code <replica id>\n<JSON array of envelopes>}: events published while
 * the previous notification was on its way go out together, as many as fit PostgreSQL's
 * 8000-byte payload, so a busy replica sends one NOTIFY per batch of messages rather than one
 * per message. A replica recognises its own notifications by the prefix and drops them unread.
 * Membership events are notified inside the transaction that made the change, with the prefix
 * {@code *}: every replica, the one that sent it included, delivers them, in commit order. An
 * envelope carries the message (or conversation) itself when it fits alone, else only its id,
 * which receivers read back; it always carries whom the event goes to.
 */
@ApplicationScoped
public class PgMessageBus implements MessageBus {

    static final String CHANNEL = "chat_message";
    static final int MAX_PAYLOAD_BYTES = 7900;
    static final String MESSAGE = "m";
    static final String CONVERSATION = "c";
    static final String REMOVED = "r";
    static final String READ = "rd";
    static final String TYPING = "t";
    static final String PRESENCE = "p";
    static final String CONTACTS = "k";
    static final String EDITED = "u";
    static final String DELETED = "d";
    /** The prefix of notifications that every replica delivers, the sender included. */
    static final String EVERYONE_PREFIX = "*\n";
    /** How long a membership change waits at most for its event to come back to this replica. */
    static final long OWN_DELIVERY_TIMEOUT_MS = 2000;
    private static final TypeReference<List<Envelope>> ENVELOPES = new TypeReference<>() {
    };

    private final String replicaId = UUID.randomUUID().toString().substring(0, 8);
    private final String ownPrefix = replicaId + "\n";
    private final Pool pool;
    private final PgNotifications notifications;
    private final MessageRepository messages;
    private final ConversationRepository conversations;
    private final ObjectMapper mapper;
    private final Queue<byte[]> unsent = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    private final AtomicLong receipts = new AtomicLong();
    /** Receipt → completed once this replica has delivered that in-transaction event. */
    private final Map<String, CompletableFuture<Void>> awaitingOwnDelivery = new ConcurrentHashMap<>();
    private final Vertx vertx;

    public PgMessageBus(Pool pool, PgNotifications notifications, MessageRepository messages,
            ConversationRepository conversations, ObjectMapper mapper, Vertx vertx) {
        this.pool = pool;
        this.notifications = notifications;
        this.messages = messages;
        this.conversations = conversations;
        this.mapper = mapper;
        this.vertx = vertx;
    }

    @Override
    public void publish(LiveEvent event) {
        unsent.add(encodeToFit(Envelope.of(event, null), ownPrefix));
        if (sending.compareAndSet(false, true)) {
            sendUnsent();
        }
    }

    @Override
    public Uni<CompletionStage<Void>> publishInTransaction(SqlConnection transaction, LiveEvent event) {
        String receipt = replicaId + "-" + receipts.incrementAndGet();
        byte[] envelope = encodeToFit(Envelope.of(event, receipt), EVERYONE_PREFIX);
        String payload = EVERYONE_PREFIX + "[" + new String(envelope, StandardCharsets.UTF_8) + "]";
        CompletableFuture<Void> delivered = new CompletableFuture<>();
        awaitingOwnDelivery.put(receipt, delivered);
        vertx.setTimer(OWN_DELIVERY_TIMEOUT_MS, id -> {
            if (awaitingOwnDelivery.remove(receipt) != null) {
                delivered.complete(null);
            }
        });
        return transaction.preparedQuery("SELECT pg_notify($1, $2)").execute(Tuple.of(CHANNEL, payload))
                .replaceWith(delivered);
    }

    /** The envelope as JSON, without its body when the body would not fit in one notification. */
    private byte[] encodeToFit(Envelope envelope, String prefix) {
        byte[] encoded = encode(envelope);
        if (encoded.length + prefix.length() + 2 > MAX_PAYLOAD_BYTES) {
            encoded = encode(envelope.withoutBody());
        }
        return encoded;
    }

    /** Runs while holding {@code sending}: sends everything queued, then lets go. */
    private void sendUnsent() {
        List<String> payloads = drainIntoPayloads();
        if (payloads.isEmpty()) {
            sending.set(false);
            if (!unsent.isEmpty() && sending.compareAndSet(false, true)) {
                sendUnsent(); // published between the drain and letting go
            }
            return;
        }
        pool.preparedQuery("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
                .execute(Tuple.of(CHANNEL, payloads.toArray(String[]::new)))
                .subscribe().with(
                        sent -> sendUnsent(),
                        failure -> {
                            Log.warnf("%d notifications to other replicas not sent (%s); their clients catch up from the history",
                                    payloads.size(), failure.toString());
                            sendUnsent();
                        });
    }

    private List<String> drainIntoPayloads() {
        List<String> payloads = new ArrayList<>();
        StringBuilder payload = null;
        int payloadBytes = 0;
        for (byte[] envelope; (envelope = unsent.poll()) != null;) {
            if (payload != null && payloadBytes + 1 + envelope.length + 1 > MAX_PAYLOAD_BYTES) {
                payloads.add(payload.append(']').toString());
                payload = null;
            }
            if (payload == null) {
                payload = new StringBuilder(ownPrefix).append('[');
                payloadBytes = ownPrefix.length() + 1;
            } else {
                payload.append(',');
                payloadBytes++;
            }
            payload.append(new String(envelope, StandardCharsets.UTF_8));
            payloadBytes += envelope.length;
        }
        if (payload != null) {
            payloads.add(payload.append(']').toString());
        }
        return payloads;
    }

    @Override
    public void subscribe(Consumer<LiveEvent> receiver, Runnable onGap) {
        notifications.listen(CHANNEL, payload -> receive(payload, receiver), onGap, onGap);
    }

    private void receive(String payload, Consumer<LiveEvent> receiver) {
        if (payload.startsWith(ownPrefix)) {
            return;
        }
        int newline = payload.indexOf('\n');
        List<Envelope> envelopes;
        try {
            envelopes = mapper.readValue(payload.substring(newline + 1), ENVELOPES);
        } catch (JsonProcessingException e) {
            Log.warnf("Ignoring a malformed %s notification", CHANNEL);
            return;
        }
        for (Envelope envelope : envelopes) {
            LiveEvent event = envelope.event();
            if (event != null) {
                receiver.accept(event);
                deliveredHere(envelope.receipt());
            } else {
                readBack(envelope).subscribe().with(
                        found -> {
                            if (found != null) {
                                receiver.accept(found);
                            }
                            deliveredHere(envelope.receipt());
                        },
                        failure -> {
                            Log.warnf("A %s event could not be read back for live delivery (%s)", envelope.type(),
                                    failure.toString());
                            deliveredHere(envelope.receipt());
                        });
            }
        }
    }

    private void deliveredHere(String receipt) {
        CompletableFuture<Void> waiting = receipt == null ? null : awaitingOwnDelivery.remove(receipt);
        if (waiting != null) {
            waiting.complete(null);
        }
    }

    /** The event of an envelope that carried only ids: the message or conversation as stored now. */
    private Uni<LiveEvent> readBack(Envelope envelope) {
        if (MESSAGE.equals(envelope.type()) && envelope.messageId() != null && envelope.to() != null) {
            return messages.findById(envelope.messageId()).map(found -> found == null ? null
                    : new MessageStored(MessageView.of(found), envelope.to(), envelope.origin()));
        }
        if ((EDITED.equals(envelope.type()) || DELETED.equals(envelope.type())) && envelope.messageId() != null
                && envelope.to() != null) {
            return messages.findById(envelope.messageId()).map(found -> found == null ? null
                    : new MessageChanged(MessageView.of(found), envelope.to(), found.deletedAt() != null));
        }
        if (CONVERSATION.equals(envelope.type()) && envelope.conversationId() != null) {
            return conversations.find(envelope.conversationId()).map(found -> found == null ? null
                    : new ConversationChanged(ConversationView.of(found.conversation(), found.lastMessage(), null)));
        }
        Log.warnf("Ignoring an unknown %s envelope of type %s", CHANNEL, envelope.type());
        return Uni.createFrom().nullItem();
    }

    private byte[] encode(Envelope envelope) {
        try {
            return mapper.writeValueAsBytes(envelope);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("notification could not be written", e);
        }
    }

    /**
     * One event in a notification: {@code type} {@code m} (a message, to the members {@code to}
     * but the socket {@code origin}), {@code c} (a conversation, to its members), {@code r}
     * ({@code user_id} removed from {@code conversation_id}), {@code rd} ({@code user_id}'s read
     * marker moved to {@code message_id}, to {@code to} but {@code origin}) or {@code t}
     * ({@code user_id} typing, to the others of {@code to}), {@code p} (a presence meta of
     * {@code user_id}: {@code origin} its phx_ref, {@code message_id} its online_at,
     * {@code joined} whether it joined or left), {@code u} / {@code d} (a message edited / deleted, to
     * {@code to}) or {@code k} (the contacts of {@code to} changed). {@code message} and
     * {@code conversation} are null when they would not fit; their ids are then read back.
     * {@code receipt} names an in-transaction event, for the replica that sent it to know when it
     * has delivered it itself.
     */
    @RegisterForReflection
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Envelope(String type, String origin, long[] to, Long messageId, MessageView message,
            Long conversationId, ConversationView conversation, Long userId, String receipt, Boolean joined) {

        static Envelope of(LiveEvent event, String receipt) {
            if (event instanceof MessageStored stored) {
                return new Envelope(MESSAGE, stored.originConnectionId(), stored.memberIds(), stored.message().id(),
                        stored.message(), null, null, null, receipt, null);
            }
            if (event instanceof ConversationChanged changed) {
                return new Envelope(CONVERSATION, null, null, null, null, changed.conversation().id(),
                        changed.conversation(), null, receipt, null);
            }
            if (event instanceof ReadMoved read) {
                return new Envelope(READ, read.originConnectionId(), read.memberIds(), read.messageId(), null,
                        read.conversationId(), null, read.userId(), receipt, null);
            }
            if (event instanceof MessageChanged changed) {
                return new Envelope(changed.deleted() ? DELETED : EDITED, null, changed.memberIds(), changed.message().id(),
                        changed.message(), null, null, null, receipt, null);
            }
            if (event instanceof PresenceChanged presence) {
                return new Envelope(PRESENCE, presence.phxRef(), null, presence.onlineAt(), null, null, null,
                        presence.userId(), null, presence.joined());
            }
            if (event instanceof ContactsChanged contacts) {
                return new Envelope(CONTACTS, null, contacts.userIds(), null, null, null, null, null, null, null);
            }
            if (event instanceof Typing typing) {
                return new Envelope(TYPING, null, typing.memberIds(), null, null, typing.conversationId(), null,
                        typing.userId(), receipt, null);
            }
            ConversationRemoved removed = (ConversationRemoved) event;
            return new Envelope(REMOVED, null, null, null, null, removed.conversationId(), null, removed.userId(),
                    receipt, null);
        }

        Envelope withoutBody() {
            return new Envelope(type, origin, to, messageId, null, conversationId, null, userId, receipt, joined);
        }

        /** The event, or null when its body has to be read back. */
        LiveEvent event() {
            return switch (type) {
                case MESSAGE -> message == null || to == null ? null : new MessageStored(message, to, origin);
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
                case EDITED, DELETED -> message == null || to == null ? null : new MessageChanged(message, to, DELETED.equals(type));
                default -> null;
            };
        }
    }
}
