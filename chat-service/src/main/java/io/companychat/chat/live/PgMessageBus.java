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
import jakarta.enterprise.inject.Typed;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.repository.ConversationRepository;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.common.notify.PgNotifications;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
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
@Typed(PgMessageBus.class)
public class PgMessageBus implements MessageBus {

    static final String CHANNEL = "chat_message";
    static final int MAX_PAYLOAD_BYTES = 7900;
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
    private final Counter published;
    private final Counter received;
    /** LISTEN connections re-established after a loss (chat_bus_reconnects_total{bus="postgres"}). */
    private final Counter reconnects;

    public PgMessageBus(Pool pool, PgNotifications notifications, MessageRepository messages,
            ConversationRepository conversations, ObjectMapper mapper, Vertx vertx, MeterRegistry registry) {
        this.published = registry.counter("chat.bus.published", "bus", "postgres");
        this.received = registry.counter("chat.bus.received", "bus", "postgres");
        this.reconnects = registry.counter("chat.bus.reconnects", "bus", "postgres");
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
        published.increment();
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
        // Subscribed runs at the first LISTEN and after every reconnection.
        AtomicBoolean first = new AtomicBoolean(true);
        notifications.listen(CHANNEL, payload -> receive(payload, receiver), () -> {
            if (!first.getAndSet(false)) {
                reconnects.increment();
            }
            onGap.run();
        }, onGap);
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
            received.increment();
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
        if (Envelope.MESSAGE.equals(envelope.type()) && envelope.messageId() != null && envelope.to() != null) {
            return messages.findById(envelope.messageId()).map(found -> found == null ? null
                    : new MessageStored(MessageView.of(found), envelope.to(), envelope.origin()));
        }
        if ((Envelope.EDITED.equals(envelope.type()) || Envelope.DELETED.equals(envelope.type())) && envelope.messageId() != null
                && envelope.to() != null) {
            return messages.findById(envelope.messageId()).map(found -> found == null ? null
                    : new MessageChanged(MessageView.of(found), envelope.to(), found.deletedAt() != null));
        }
        if (Envelope.CONVERSATION.equals(envelope.type()) && envelope.conversationId() != null) {
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
}
