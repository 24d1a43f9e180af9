package io.companychat.chat.live;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Typed;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.ConversationRemoved;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.live.LiveEvent.PresenceChanged;
import io.companychat.chat.live.LiveEvent.ReadMoved;
import io.companychat.chat.live.LiveEvent.Typing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener.Events;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * {@link MessageBus} on NATS ({@code CHAT_BUS=nats}), routing by interest: an event for a user is published on
 * {@code chat.user.<id>} ({@code chat} being {@code chat.bus.nats-prefix}), and a replica subscribes to the subjects of the users whose sockets it holds
 * ({@link #follow}), so the NATS server forwards each event only to the replicas that deliver it. A 1:1 message
 * between users on two of three replicas reaches one other replica, not two; a replica's bus work grows with its
 * own sockets, not with the system's traffic, and no {@code NOTIFY} takes PostgreSQL's commit lock.
 *
 * <p>What is not addressed to users goes to every replica on {@code chat.all}: presence metas and contact changes,
 * which every replica's contacts index needs (a joining connection is announced once, whatever its number of
 * contacts). Membership changes stay on PostgreSQL ({@link PgMessageBus#publishInTransaction}): they must reach
 * every replica if and only if their transaction commits, in commit order, which a NOTIFY inside the transaction
 * gives and a publish after the commit does not; they are rare (people adding people), so they cost PostgreSQL
 * nothing that matters. Token revocation stays on PostgreSQL too (common's {@code RevokedTokens}, every service).
 *
 * <p>The connection does not echo this replica's own publications (it delivered them itself) and does not buffer
 * while NATS is away: what is published then is dropped and counted, the clients catch up with {@code since},
 * and a late burst after a reconnection cannot overtake their catch-up. jnats reconnects by itself and
 * re-subscribes; {@code onGap} runs on every disconnection and reconnection. Presence metas are the exception: a
 * client has no {@code since} for them, so the latest one NATS did not take for each {@code phx_ref} is kept and
 * published once NATS is back (a later meta of the same connection replaces it; a join and a leave while away cancel
 * out), and then {@code onRestored} makes this replica read its sockets' presence again (see PresenceTracker).
 */
@ApplicationScoped
@Typed(NatsMessageBus.class)
public class NatsMessageBus implements MessageBus {

    /** How long a join waits at most for NATS to confirm the subscription of its user. */
    static final Duration FOLLOW_CONFIRMATION = Duration.ofSeconds(2);
    /** How often the connection asks NATS whether it is there (see {@code subscribe}). */
    static final Duration NATS_PING_INTERVAL = Duration.ofSeconds(5);
    /** Received messages delivered per event-loop task at most, so that a burst does not hold the loop. */
    static final int DRAINED_PER_TASK = 256;

    /** {@code <prefix>.user.}: followed by a user id, the subject of the events for that user. */
    private final String userSubject;
    /**
     * {@code <prefix>.pair.}: followed by two user ids, the lower first, the subject of an event for exactly those two
     * users (a message, edit or read marker of a direct conversation): one publish where per-user subjects took two.
     */
    private final String pairSubject;
    /** {@code <prefix>.all}: what every replica gets. */
    private final String everyReplica;
    /** {@code <prefix>.presence.resync}: a replica back from a loss asks the others to read their sockets' presence again. */
    private final String presenceResync;
    private final PgMessageBus postgres;
    private final ChatConfig config;
    private final ObjectMapper mapper;
    private final Vertx vertx;
    private final Counter published;
    private final Counter received;
    private final Counter dropped;
    /** Follows waiting for NATS to confirm their subscription (one flush confirms every one made before it). */
    private final Queue<CompletableFuture<Void>> unconfirmed = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean confirming = new AtomicBoolean();
    /** Whether the connection is up (a disconnection is reported once, however often jnats reports it). */
    private final AtomicBoolean connected = new AtomicBoolean(true);
    /** Connections to NATS re-established, subscriptions included (chat_bus_reconnects_total{bus="nats"}). */
    private final Counter reconnects;
    /** What the dispatcher thread received and the event loop has not delivered yet (see {@link #subscribe}). */
    private final Queue<Message> inbox = new ConcurrentLinkedQueue<>();
    /** Whether a task on the event loop is draining {@link #inbox} (at most one is). */
    private final AtomicBoolean draining = new AtomicBoolean();
    private volatile Connection connection;
    private volatile Dispatcher dispatcher;
    private volatile Runnable onGap = () -> {
    };
    private volatile Consumer<Instant> onRestored = missedSince -> {
    };
    /** When the loss being repaired began, less the time it may have taken to notice (null: none). */
    private final AtomicReference<Instant> lostFrom = new AtomicReference<>();
    /**
     * Presence metas NATS did not take (it was away), the latest of each connection by {@code phx_ref}, to publish once
     * it is back. At most one per connection of this replica that changed while away (or was reaped by it). Guarded by
     * itself, which every presence publish holds, so that a kept meta never goes out after a newer one of its connection.
     */
    private final Map<String, Unsent> unsentPresence = new LinkedHashMap<>();

    public NatsMessageBus(PgMessageBus postgres, ChatConfig config, ObjectMapper mapper, Vertx vertx, MeterRegistry registry) {
        this.postgres = postgres;
        this.config = config;
        this.userSubject = config.bus().natsPrefix() + ".user.";
        this.pairSubject = config.bus().natsPrefix() + ".pair.";
        this.everyReplica = config.bus().natsPrefix() + ".all";
        this.presenceResync = config.bus().natsPrefix() + ".presence.resync";
        this.mapper = mapper;
        this.vertx = vertx;
        this.published = registry.counter("chat.bus.published", "bus", "nats");
        this.received = registry.counter("chat.bus.received", "bus", "nats");
        this.dropped = registry.counter("chat.bus.dropped", "bus", "nats");
        this.reconnects = registry.counter("chat.bus.reconnects", "bus", "nats");
        Gauge.builder("chat.bus.connected", connected, up -> up.get() ? 1 : 0).tag("bus", "nats")
                .description("1 while this replica listens to the bus, 0 while it does not (live events from others lost)")
                .register(registry);
    }

    @Override
    public void publish(LiveEvent event) {
        Connection nats = connection;
        if (nats == null) {
            dropped.increment();
            return;
        }
        // A message goes as its receive_msg push, written once by LiveSockets: receivers send it as it is.
        Envelope envelope = event instanceof MessageStored written && written.frame() != null ? Envelope.push(written)
                : Envelope.of(event, null);
        if (event instanceof PresenceChanged change) {
            publishPresence(nats, change, encode(envelope));
            return;
        }
        try {
            if (event instanceof MessageStored stored) {
                toMembers(nats, stored.memberIds(), envelope);
            } else if (event instanceof MessageChanged changed) {
                toMembers(nats, changed.memberIds(), envelope);
            } else if (event instanceof ReadMoved read) {
                toMembers(nats, read.memberIds(), envelope);
            } else if (event instanceof Typing typing) {
                toEach(nats, typing.memberIds(), typing.userId(), envelope);
            } else {
                nats.publish(everyReplica, encode(envelope));
                published.increment();
            }
        } catch (IllegalStateException notConnected) {
            dropped.increment();
            Log.debugf("NATS is not connected: a %s was not published; clients catch up with since",
                    event.getClass().getSimpleName());
        }
    }

    /** To every replica; kept for later if NATS does not take it, and whatever was kept for its connection goes. */
    private void publishPresence(Connection nats, PresenceChanged change, byte[] body) {
        synchronized (unsentPresence) {
            try {
                nats.publish(everyReplica, body);
                published.increment();
                unsentPresence.remove(change.phxRef());
            } catch (IllegalStateException notConnected) {
                dropped.increment();
                keepUnsent(change);
            }
        }
    }

    /**
     * The latest meta of the connection wins. A leave of a connection whose join was kept too drops both: the other
     * replicas never heard of it. Under {@code unsentPresence}.
     */
    private void keepUnsent(PresenceChanged change) {
        Unsent before = unsentPresence.get(change.phxRef());
        boolean othersMayKnow = before == null ? !change.joined() : before.othersMayKnow();
        if (!change.joined() && !othersMayKnow) {
            unsentPresence.remove(change.phxRef());
        } else {
            unsentPresence.put(change.phxRef(), new Unsent(change, othersMayKnow));
        }
    }

    /** NATS is back: the presence metas it did not take go now, before this replica reads its own sockets' presence again. */
    private void publishUnsentPresence() {
        Connection nats = connection;
        synchronized (unsentPresence) {
            if (unsentPresence.isEmpty()) {
                return;
            }
            List<Unsent> kept = new ArrayList<>(unsentPresence.values());
            unsentPresence.clear();
            int sent = 0;
            for (Unsent unsent : kept) {
                try {
                    nats.publish(everyReplica, encode(Envelope.of(unsent.change(), null)));
                    published.increment();
                    sent++;
                } catch (IllegalStateException awayAgain) {
                    unsentPresence.put(unsent.change().phxRef(), unsent);
                }
            }
            Log.infof("NATS back: %d presence metas published that it had not taken (%d kept for its next return)", sent,
                    kept.size() - sent);
        }
    }

    /** A presence meta not published, and whether the other replicas may know its connection (from before NATS went). */
    private record Unsent(PresenceChanged change, boolean othersMayKnow) {
    }

    @Override
    public boolean carriesPushFrames() {
        return true;
    }

    /**
     * To every member, the one who sent it too (their other devices, on any replica): one NATS message on the pair's
     * subject for two members, which both of them follow; one per member in a group.
     */
    private void toMembers(Connection nats, long[] userIds, Envelope envelope) {
        if (userIds.length == 2 && userIds[0] != userIds[1]) {
            long low = Math.min(userIds[0], userIds[1]);
            long high = Math.max(userIds[0], userIds[1]);
            nats.publish(pairSubject + low + '.' + high, encode(envelope.withoutAddressees()));
            published.increment();
        } else {
            toEach(nats, userIds, -1, envelope);
        }
    }

    /** One NATS message per addressee but {@code except}, all with the same bytes. */
    private void toEach(Connection nats, long[] userIds, long except, Envelope envelope) {
        byte[] body = encode(envelope.withoutAddressees());
        for (long userId : userIds) {
            if (userId != except) {
                nats.publish(userSubject + userId, body);
                published.increment();
            }
        }
    }

    /** The resync request, naming the instant: the other replicas read presence and the messages since again. */
    @Override
    public void announceLoss(Instant since) {
        if (connected.get()) {
            askOthersToResync(since);
        }
    }

    /** Membership changes: on PostgreSQL, inside their transaction (see the class comment). */
    @Override
    public Uni<CompletionStage<Void>> publishInTransaction(SqlConnection transaction, LiveEvent event) {
        return postgres.publishInTransaction(transaction, event);
    }

    @Override
    public void subscribe(Consumer<LiveEvent> receiver, Runnable onGap, Consumer<Instant> onRestored) {
        this.onGap = onGap;
        this.onRestored = onRestored;
        // Messages and presence ride NATS: a LISTEN connection restored brings nothing of them back.
        postgres.subscribe(receiver, onGap, missedSince -> {
        });
        Context context = vertx.getOrCreateContext();
        Options.Builder builder = Options.builder()
                .server(config.bus().natsUrl())
                .connectionName("chat-service")
                .noEcho()
                .maxReconnects(-1)
                .reconnectWait(Duration.ofSeconds(1))
                .connectionTimeout(Duration.ofSeconds(5))
                .reconnectBufferSize(0)
                // A link that died silently (no FIN or reset: a node or a network path gone) is noticed within ~15 s
                // rather than jnats's default ~4 min (a PING every 2 min, 2 unanswered): until then what is published
                // is written into a dead socket and lost for live delivery. One PING/PONG per 5 s costs nothing.
                .pingInterval(NATS_PING_INTERVAL)
                .maxPingsOut(2)
                .connectionListener((nats, event) -> connectionEvent(event));
        // From a Secret (the environment or a mounted file), never from NATS_URL, which lives in a ConfigMap; neither is
        // logged. A tls:// URL needs nothing here: jnats then connects with TLS, verified against the JVM's trust store.
        config.bus().natsToken().ifPresent(token -> builder.token(token.toCharArray()));
        config.bus().natsCredentials().ifPresent(file -> builder.authHandler(Nats.credentials(file)));
        Options options = builder.build();
        try {
            connection = Nats.connect(options);
        } catch (IOException e) {
            throw new IllegalStateException("CHAT_BUS=nats, but NATS at " + config.bus().natsUrl()
                    + " does not answer or refuses this replica (CHAT_NATS_TOKEN, CHAT_NATS_CREDENTIALS): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to NATS", e);
        }
        // One hop to the event loop per batch, not per message: the dispatcher thread queues what it receives, and
        // one task drains the queue while it is not empty.
        dispatcher = connection.createDispatcher(message -> {
            inbox.add(message);
            if (draining.compareAndSet(false, true)) {
                context.runOnContext(ignored -> drain(context, receiver));
            }
        });
        dispatcher.subscribe(everyReplica);
        // Another replica is back from a loss: what it published into its link before jnats saw the link was dead
        // reached nobody (a kept meta cannot cover that: jnats took it), so every replica reads its sockets' presence
        // again, and the messages stored since the loss began (the request's body), as after a loss of its own.
        connection.createDispatcher(request -> {
            Instant missedSince = lossBeganAt(request.getData());
            context.runOnContext(ignored -> onRestored.accept(missedSince));
        }).subscribe(presenceResync);
        Log.infof("Live events over NATS at %s (routing by interest)", connection.getConnectedUrl());
    }

    private void connectionEvent(Events event) {
        switch (event) {
            case DISCONNECTED -> {
                if (!connected.getAndSet(false)) {
                    return;
                }
                Log.warn("NATS connection lost: live events to and from other replicas wait for it; sockets here get what"
                        + " they missed once it is back");
                lostFrom.compareAndSet(null, Instant.now().minus(LOSS_NOTICED_WITHIN));
                onGap.run();
            }
            case RESUBSCRIBED -> {
                connected.set(true);
                reconnects.increment();
                Log.info("NATS connection back: live delivery resumes");
                onGap.run();
                Instant lost = lostFrom.getAndSet(null);
                Instant missedSince = lost != null ? lost : Instant.now().minus(LOSS_NOTICED_WITHIN);
                publishUnsentPresence();
                askOthersToResync(missedSince);
                // Once the server has read the subscriptions (a flush): what the others publish from then on comes here.
                vertx.executeBlocking(() -> {
                    confirmResubscribed();
                    return null;
                }, false).onComplete(done -> onRestored.accept(missedSince));
            }
            default -> {
            }
        }
    }

    /**
     * On the event loop, holding {@link #draining}: delivers what the dispatcher received, at most
     * {@link #DRAINED_PER_TASK} messages per task (the event loop's other work goes between), then lets go.
     */
    private void drain(Context context, Consumer<LiveEvent> receiver) {
        for (int taken = 0; taken < DRAINED_PER_TASK; taken++) {
            Message message = inbox.poll();
            if (message == null) {
                draining.set(false);
                if (inbox.isEmpty() || !draining.compareAndSet(false, true)) {
                    return;
                }
                continue; // queued between the poll and letting go, and no other task took it
            }
            try {
                receive(message, receiver);
            } catch (RuntimeException failure) {
                Log.warnf(failure, "Live delivery of a NATS message on %s failed", message.getSubject());
            }
        }
        context.runOnContext(ignored -> drain(context, receiver));
    }

    private void receive(Message message, Consumer<LiveEvent> receiver) {
        Envelope envelope;
        try {
            envelope = mapper.readValue(message.getData(), Envelope.class);
        } catch (IOException e) {
            Log.warnf("Ignoring a malformed NATS message on %s", message.getSubject());
            return;
        }
        String subject = message.getSubject();
        if (subject.startsWith(userSubject)) {
            envelope = envelope.to(Long.parseLong(subject, userSubject.length(), subject.length(), 10));
        } else if (subject.startsWith(pairSubject)) {
            // For the one of the two whose subscription brought it: a replica that follows both gets it once for each.
            int dot = subject.indexOf('.', pairSubject.length());
            envelope = envelope.to(message.getSubscription().getSubject().endsWith(".*")
                    ? Long.parseLong(subject, pairSubject.length(), dot, 10)
                    : Long.parseLong(subject, dot + 1, subject.length(), 10));
        }
        LiveEvent event = envelope.event();
        if (event == null || event instanceof ConversationChanged || event instanceof ConversationRemoved) {
            Log.warnf("Ignoring a NATS message of type %s", envelope.type());
            return;
        }
        received.increment();
        receiver.accept(event);
    }

    @Override
    public CompletionStage<Void> follow(long userId) {
        Dispatcher subscriptions = dispatcher;
        if (subscriptions == null) {
            return FOLLOWING;
        }
        subscriptions.subscribe(userSubject + userId);
        subscriptions.subscribe(pairSubject + userId + ".*");
        subscriptions.subscribe(pairSubject + "*." + userId);
        CompletableFuture<Void> confirmed = new CompletableFuture<>();
        unconfirmed.add(confirmed);
        if (confirming.compareAndSet(false, true)) {
            vertx.executeBlocking(this::confirmFollows, false);
        }
        return confirmed;
    }

    @Override
    public void unfollow(long userId) {
        Dispatcher subscriptions = dispatcher;
        if (subscriptions != null) {
            subscriptions.unsubscribe(userSubject + userId);
            subscriptions.unsubscribe(pairSubject + userId + ".*");
            subscriptions.unsubscribe(pairSubject + "*." + userId);
        }
    }

    /**
     * Flushes (a PING the server answers after it has read everything before it, the subscriptions included) until
     * no follow waits: one round trip confirms every follow made before it.
     */
    private Void confirmFollows() {
        while (true) {
            List<CompletableFuture<Void>> batch = new ArrayList<>();
            for (CompletableFuture<Void> follow; (follow = unconfirmed.poll()) != null;) {
                batch.add(follow);
            }
            if (batch.isEmpty()) {
                confirming.set(false);
                if (unconfirmed.isEmpty() || !confirming.compareAndSet(false, true)) {
                    return null;
                }
                continue;
            }
            try {
                connection.flush(FOLLOW_CONFIRMATION);
            } catch (TimeoutException | IllegalStateException e) {
                Log.debugf("NATS did not confirm %d subscriptions (%s); their users catch up with since", batch.size(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            batch.forEach(follow -> follow.complete(null));
        }
    }

    /**
     * After a loss: the other replicas read their sockets' presence again, and the messages stored from
     * {@code missedSince} on (its epoch milliseconds, in ASCII, are the body); no echo: not this one, which does so itself.
     */
    private void askOthersToResync(Instant missedSince) {
        try {
            connection.publish(presenceResync, Long.toString(missedSince.toEpochMilli()).getBytes(StandardCharsets.US_ASCII));
        } catch (IllegalStateException awayAgain) {
            Log.debug("NATS away again before the presence resync request went out");
        }
    }

    /**
     * The instant a resync request names (see {@link #askOthersToResync}); a request without one (a replica of before
     * 2026-12-08) or with a garbled one: {@link #LOSS_NOTICED_WITHIN} ago. Never later than now.
     */
    static Instant lossBeganAt(byte[] body) {
        Instant now = Instant.now();
        try {
            Instant named = Instant.ofEpochMilli(Long.parseLong(new String(body, StandardCharsets.US_ASCII).trim()));
            return named.isAfter(now) ? now : named;
        } catch (NumberFormatException | DateTimeException garbled) {
            return now.minus(LOSS_NOTICED_WITHIN);
        }
    }

    private void confirmResubscribed() {
        try {
            connection.flush(FOLLOW_CONFIRMATION);
        } catch (TimeoutException | IllegalStateException e) {
            Log.debugf("NATS did not confirm the subscriptions after reconnecting (%s)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private byte[] encode(Envelope envelope) {
        try {
            return mapper.writeValueAsBytes(envelope);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("live event could not be written", e);
        }
    }

    @PreDestroy
    void close() {
        Connection nats = connection;
        if (nats != null) {
            try {
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
