package io.companychat.chat.service;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.chat.config.ChatConfig;
import io.companychat.common.error.ApiException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * How fast one user may post messages, over REST and the socket together: {@code chat.messages.rate} per second
 * ({@code CHAT_MESSAGE_RATE}, 0 = no limit), with bursts of up to three times that. A token bucket kept as the
 * generic cell rate algorithm: per user one "theoretical arrival time", which moves one interval ahead per message
 * and may run at most a burst ahead of the clock. A user who has not posted for a full burst's worth of time has no
 * entry at all.
 * <p>
 * Per replica, on purpose (see the README, "Abuse limits"): it guards this replica's database writes and sockets
 * against one user, costs no database round trip on the message path, and a user whose connections reach several
 * replicas gets at most that many times the rate.
 */
@ApplicationScoped
public class MessageRateLimiter {

    /** What a refused sender is told (REST {@code {"message"}}, socket error {@code reason}). */
    static final String REASON = "rate limited: too many messages, slow down";
    static final int BURST_FACTOR = 3;
    private static final long FORGET_EVERY_MILLIS = 10_000;

    private final Vertx vertx;
    private final int rate;
    /** Nanoseconds between two messages at the steady rate. */
    private final long interval;
    /** How far ahead of the clock a user's arrival time may run: a burst of {@link #BURST_FACTOR} × rate. */
    private final long tolerance;
    /** User id → theoretical arrival time ({@link System#nanoTime()}) of their next message. */
    private final Map<Long, Long> nextArrival = new ConcurrentHashMap<>();
    private long timerId = -1;

    public MessageRateLimiter(ChatConfig config, Vertx vertx) {
        this.vertx = vertx;
        this.rate = Math.max(0, config.messages().rate());
        this.interval = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) / rate;
        this.tolerance = (BURST_FACTOR * (long) rate - 1) * interval;
    }

    void start(@Observes StartupEvent startup) {
        if (rate > 0) {
            timerId = vertx.setPeriodic(FORGET_EVERY_MILLIS, id -> forgetIdle());
        }
    }

    void stop(@Observes ShutdownEvent shutdown) {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }

    /**
     * Counts one message of the user, or refuses it: {@code 429} with {@code Retry-After} (the seconds until the
     * user may send again), thrown before anything is stored.
     */
    public void acquire(long userId) {
        if (rate == 0) {
            return;
        }
        long now = System.nanoTime();
        long[] wait = { 0 };
        nextArrival.compute(userId, (user, arrival) -> {
            long due = arrival == null || arrival - now < 0 ? now : arrival;
            long early = due - now - tolerance;
            if (early > 0) {
                wait[0] = early;
                return arrival;
            }
            return due + interval;
        });
        if (wait[0] > 0) {
            throw ApiException.tooManyRequests(REASON, (wait[0] + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
        }
    }

    /** Drops the users whose bucket is full again: for them no entry and a full bucket are the same. */
    private void forgetIdle() {
        long now = System.nanoTime();
        nextArrival.values().removeIf(arrival -> arrival - now <= 0);
    }
}
