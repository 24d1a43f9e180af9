package io.companychat.chat.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.chat.socket.SocketSessions;
import io.quarkus.runtime.StartupEvent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * chat-service's own series on the management port (README, "Metrics"). Tags have a handful of values each (a reason,
 * a limit): never a user or conversation id. Every series with a tag is registered at its first value, and the known
 * values at start, so that a rate of 0 is a 0 and not a missing series.
 */
@ApplicationScoped
public class ChatMetrics {

    /** Why an upgrade to the chat socket was refused. */
    public static final String ORIGIN = "origin";
    public static final String TOKEN = "token";
    public static final String SOCKETS_PER_USER = "sockets_per_user";
    public static final String STOPPING = "stopping";
    /** The replica holds {@code CHAT_MAX_SOCKETS} (503). */
    public static final String CAPACITY = "capacity";

    private final MeterRegistry registry;
    private final Counter stored;
    private final Counter delivered;
    private final Timer deliveryLag;
    private final Counter caughtUp;
    private final Map<String, Counter> refusedUpgrades = new ConcurrentHashMap<>();
    private final Map<String, Counter> rateLimited = new ConcurrentHashMap<>();

    public ChatMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.stored = Counter.builder("chat.messages.stored").description("messages stored by this replica").register(registry);
        this.delivered = Counter.builder("chat.messages.delivered")
                .description("receive_msg pushes handed to this replica's sockets (one per recipient socket)").register(registry);
        // A histogram, so that Prometheus can take the p99 over all replicas (histogram_quantile).
        this.deliveryLag = Timer.builder("chat.delivery.lag")
                .description("from a message's commit to its push to a socket on this replica (the bus included)")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
        this.caughtUp = Counter.builder("chat.bus.caught.up")
                .description("messages pushed to this replica's sockets after a loss of the bus, which they missed live")
                .register(registry);
        List.of(ORIGIN, TOKEN, SOCKETS_PER_USER, STOPPING, CAPACITY).forEach(this::upgradeRefused0);
        List.of("messages", "signals", "search").forEach(limit -> rateLimitCounter(limit));
    }

    void onStart(@Observes StartupEvent start, SocketSessions sessions) {
        watchSockets(sessions::openCount, sessions::connectedUsers); // openCount: O(1), count() walks every user
    }

    /** The sockets and connected users of this replica, read at each scrape. */
    void watchSockets(Supplier<Number> openSockets, Supplier<Number> connectedUsers) {
        // strong references: a gauge holds its object weakly, and these lambdas have no other holder (NaN after a GC)
        Gauge.builder("chat.sockets.open", openSockets, supplier -> supplier.get().doubleValue()).strongReference(true)
                .description("open chat sockets on this replica").register(registry);
        Gauge.builder("chat.users.connected", connectedUsers, supplier -> supplier.get().doubleValue()).strongReference(true)
                .description("users with at least one open socket on this replica").register(registry);
    }

    public void upgradeRefused(String reason) {
        upgradeRefused0(reason).increment();
    }

    private Counter upgradeRefused0(String reason) {
        return refusedUpgrades.computeIfAbsent(reason, r -> Counter.builder("chat.socket.upgrades.refused")
                .description("socket upgrades refused, by reason").tag("reason", r).register(registry));
    }

    /** The counter of refusals by one rate limit ({@code messages}, {@code signals}, {@code search}). */
    public Counter rateLimitCounter(String limit) {
        return rateLimited.computeIfAbsent(limit, l -> Counter.builder("chat.rate.limited")
                .description("actions refused by a per-user rate limit, by limit").tag("limit", l).register(registry));
    }

    /** Messages that reached this replica's sockets only after a loss of the bus (see {@code MissedMessages}). */
    public void caughtUpAfterBusLoss(int messages) {
        caughtUp.increment(messages);
    }

    public void messageStored() {
        stored.increment();
    }

    /** A message pushed to {@code sockets} sockets here; its lag is measured once, from its commit. */
    public void messageDelivered(Instant insertedAt, int sockets) {
        if (sockets <= 0) {
            return;
        }
        delivered.increment(sockets);
        if (insertedAt != null) {
            Duration lag = Duration.between(insertedAt, Instant.now());
            deliveryLag.record(lag.isNegative() ? Duration.ZERO : lag);
        }
    }
}
