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
 * A user who goes on sending though refused is flooding ({@link #isFlooding}): refusals are counted the same way, in a
 * second bucket that lets {@link #FLOOD_FACTOR} times the rate of refusals through (a client that retries too
 * eagerly), and is flooding past {@link #FLOOD_FACTOR} bursts of them. The socket closes a flooding user's
 * connections (1008) rather than answering each frame, until the refusals have drained.
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
    static final int FLOOD_FACTOR = 10;
    private static final long FORGET_EVERY_MILLIS = 10_000;

    private final Vertx vertx;
    private final int rate;
    /** Nanoseconds between two messages at the steady rate. */
    private final long interval;
    /** How far ahead of the clock a user's arrival time may run: a burst of {@link #BURST_FACTOR} × rate. */
    private final long tolerance;
    /** Nanoseconds one refusal weighs in the refusal bucket. */
    private final long refusalWeight;
    /** How far ahead of the clock the refusals may run before the user counts as flooding. */
    private final long floodTolerance;
    private final Map<Long, Bucket> buckets = new ConcurrentHashMap<>();
    private long timerId = -1;

    public MessageRateLimiter(ChatConfig config, Vertx vertx) {
        this.vertx = vertx;
        this.rate = Math.max(0, config.messages().rate());
        this.interval = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) / rate;
        this.tolerance = (BURST_FACTOR * (long) rate - 1) * interval;
        this.refusalWeight = interval / FLOOD_FACTOR;
        this.floodTolerance = (long) FLOOD_FACTOR * BURST_FACTOR * rate * refusalWeight;
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
        buckets.compute(userId, (user, existing) -> {
            Bucket bucket = existing != null ? existing : new Bucket(now);
            long due = bucket.arrival - now < 0 ? now : bucket.arrival;
            long early = due - now - tolerance;
            if (early > 0) {
                wait[0] = early;
                bucket.refusals = (bucket.refusals - now < 0 ? now : bucket.refusals) + refusalWeight;
            } else {
                bucket.arrival = due + interval;
            }
            return bucket;
        });
        if (wait[0] > 0) {
            throw ApiException.tooManyRequests(REASON, (wait[0] + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
        }
    }

    /**
     * Whether the user keeps sending though refused: more than {@link #FLOOD_FACTOR} bursts of refusals beyond
     * {@link #FLOOD_FACTOR} times the rate (at the defaults, more than 300 refusals beyond 100 per second).
     */
    public boolean isFlooding(long userId) {
        if (rate == 0) {
            return false;
        }
        Bucket bucket = buckets.get(userId);
        return bucket != null && bucket.refusals - System.nanoTime() > floodTolerance;
    }

    /** Drops the users whose buckets are full again and refusals drained: for them no entry is the same. */
    private void forgetIdle() {
        long now = System.nanoTime();
        buckets.values().removeIf(bucket -> bucket.arrival - now <= 0 && bucket.refusals - now <= 0);
    }

    /** One user's bucket; written only inside {@code compute} of its map entry. */
    private static final class Bucket {
        /** Theoretical arrival time ({@link System#nanoTime()}) of the user's next message. */
        volatile long arrival;
        /** The same for refusals: how far the user's refusals run ahead of the clock. */
        volatile long refusals;

        Bucket(long now) {
            this.arrival = now;
            this.refusals = now;
        }
    }
}
