package io.companychat.chat.live;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Typed;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.repository.ConversationRepository;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.common.notify.PgNotifications;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
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
 *
 * <p>{@link #publish} sends nothing while this replica is provably alone: the NOTIFY would only come back to its own
 * listener, which drops it (with one replica, every {@code read} push and {@code typing} cost PostgreSQL a NOTIFY
 * for nothing). See {@link #checkReplicas}.
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
    /**
     * A replica check: says "this replica listens" to the others (an echo, {@code <replica id> <check>\n[]}, an empty
     * envelope list to every receiver) and counts the chat-service LISTEN connections of this database, in one
     * statement. The count is taken before the commit, the echo delivered after it: so when the echo comes back to this
     * replica's listener, that listener was one of those counted.
     */
    static final String CHECK = """
            SELECT pg_notify($1, $2), (SELECT count(*) FROM pg_stat_activity
                                       WHERE datname = current_database() AND application_name = $3) AS listeners""";
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
    /** The {@code application_name} of every chat-service replica's LISTEN connection (common's {@code PgNotifications}). */
    private final String listenerName;
    private final Duration checkInterval;
    private final String echoPrefix = replicaId + " ";
    /** False only while this replica is provably alone: {@link #publish} then sends nothing. */
    private volatile boolean othersListening = true;
    /** This replica's LISTEN connection is up. */
    private volatile boolean listening;
    /** Notifications of other replicas received so far (their events and their checks' echoes). */
    private final AtomicLong fromOthers = new AtomicLong();
    private final AtomicBoolean checking = new AtomicBoolean();
    private long checks; // guarded by this
    /** The newest check's result, until its echo comes back; guarded by this. */
    private Check counted;
    /** The newest check whose echo came back; guarded by this. */
    private long echoed;

    public PgMessageBus(Pool pool, PgNotifications notifications, MessageRepository messages,
            ConversationRepository conversations, ObjectMapper mapper, Vertx vertx, MeterRegistry registry, ChatConfig config,
            @ConfigProperty(name = "quarkus.application.name") String applicationName) {
        this.listenerName = applicationName + PgNotifications.APPLICATION_NAME_SUFFIX;
        this.checkInterval = config.bus().replicaCheckInterval();
        this.published = registry.counter("chat.bus.published", "bus", "postgres");
        this.received = registry.counter("chat.bus.received", "bus", "postgres");
        this.reconnects = registry.counter("chat.bus.reconnects", "bus", "postgres");
        Gauge.builder("chat.bus.connected", this, bus -> bus.listening ? 1 : 0).tag("bus", "postgres")
                .description("1 while this replica listens to the bus, 0 while it does not (live events from others lost)")
                .register(registry);
        this.pool = pool;
        this.notifications = notifications;
        this.messages = messages;
        this.conversations = conversations;
        this.mapper = mapper;
        this.vertx = vertx;
    }

    @Override
    public void publish(LiveEvent event) {
        if (!othersListening) {
            return;
        }
        unsent.add(encodeToFit(Envelope.of(event, null), ownPrefix));
        published.increment();
        if (sending.compareAndSet(false, true)) {
            sendUnsent();
        }
    }

    @Override
    public void announceLoss(Instant since) {
        publish(new LiveEvent.MessagesMissed(since));
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
    public void subscribe(Consumer<LiveEvent> receiver, Runnable onGap, Consumer<Instant> onRestored) {
        // Subscribed runs at the first LISTEN and after every reconnection.
        AtomicBoolean first = new AtomicBoolean(true);
        // When the loss being repaired began (less the time it may have taken to notice), the earliest if several.
        AtomicReference<Instant> lostFrom = new AtomicReference<>();
        notifications.listen(CHANNEL, payload -> receive(payload, receiver), () -> {
            boolean again = !first.getAndSet(false);
            if (again) {
                reconnects.increment();
            }
            listening = true;
            checkReplicas(); // at once: the echo tells the other replicas that this one listens (again)
            onGap.run();
            Instant missedSince = lostFrom.getAndSet(null);
            if (again) {
                onRestored.accept(missedSince != null ? missedSince : Instant.now().minus(LOSS_NOTICED_WITHIN));
            }
        }, () -> {
            listening = false;
            othersListening = true;
            lostFrom.compareAndSet(null, Instant.now().minus(LOSS_NOTICED_WITHIN));
            onGap.run();
        });
        vertx.setPeriodic(checkInterval.toMillis(), id -> checkReplicas());
    }

    /**
     * Decides whether another replica may listen. This replica is alone when a check counted one chat-service listener
     * in the database, its echo came back to this replica's listener (so that one was this replica's own), and no other
     * replica's notification arrived since the check began. Anything else (a check that failed, an echo that did not
     * come back before the next check, the LISTEN connection down) counts as "others may listen". A replica that starts
     * listening checks at once, and its echo makes every other replica publish again as soon as it arrives; one that
     * left stops counting at the next check. Hand-written on purpose: PostgreSQL tells no session who else listens on a
     * channel, and presence's replica heartbeats ({@code presence_replicas}) are 10 s apart and say nothing of
     * LISTEN connections.
     */
    private void checkReplicas() {
        if (!listening || !checking.compareAndSet(false, true)) {
            return;
        }
        long number;
        synchronized (this) {
            if (counted != null) {
                othersListening = true; // the previous check's echo never came back
                counted = null;
            }
            number = ++checks;
        }
        long othersBefore = fromOthers.get();
        pool.preparedQuery(CHECK).execute(Tuple.of(CHANNEL, echoPrefix + number + "\n[]", listenerName))
                .subscribe().with(rows -> {
                    counted(new Check(number, rows.iterator().next().getLong("listeners"), othersBefore));
                    checking.set(false);
                }, failure -> {
                    othersListening = true;
                    checking.set(false);
                });
    }

    private synchronized void counted(Check check) {
        counted = check;
        decide();
    }

    private synchronized void echoed(long number) {
        echoed = number;
        decide();
    }

    private void decide() {
        if (counted != null && counted.number() == echoed) {
            othersListening = counted.listeners() > 1 || fromOthers.get() != counted.othersBefore() || !listening;
            counted = null;
        }
    }

    private record Check(long number, long listeners, long othersBefore) {
    }

    private void receive(String payload, Consumer<LiveEvent> receiver) {
        if (payload.startsWith(ownPrefix)) {
            return;
        }
        if (payload.startsWith(echoPrefix)) {
            echoed(Long.parseLong(payload, echoPrefix.length(), payload.indexOf('\n'), 10));
            return;
        }
        if (!payload.startsWith(EVERYONE_PREFIX)) {
            fromOthers.incrementAndGet(); // another replica listens too, or did a moment ago
            othersListening = true;
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
