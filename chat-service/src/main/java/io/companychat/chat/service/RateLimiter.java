package io.companychat.chat.service;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.Counter;
import io.companychat.common.error.ApiException;
import io.vertx.core.Vertx;

/**
 * How fast one user may do one kind of thing, on this replica: {@code rate} per second (0 = no limit), with bursts of
 * up to three times that. A token bucket kept as the generic cell rate algorithm: per user one "theoretical arrival
 * time", which moves one interval ahead per action and may run at most a burst ahead of the clock. A user who has not
 * acted for a full burst's worth of time has no entry at all.
 * <p>
 * A user who goes on though refused is flooding ({@link #isFlooding}): refusals are counted the same way, in a second
 * bucket that lets {@link #FLOOD_FACTOR} times the rate of refusals through (a client that retries too eagerly), and
 * is flooding past {@link #FLOOD_FACTOR} bursts of them.
 * <p>
 * Per replica, on purpose (see the README, "Abuse limits"): it guards this replica's database and sockets against one
 * user, costs no database round trip, and a user whose connections reach several replicas gets at most that many
 * times the rate. Hand-written rather than a library's: it is twenty lines, allocation-free per action, and the
 * flooding signal needs the refusal bucket beside the rate bucket.
 */
public abstract class RateLimiter {

    static final int BURST_FACTOR = 3;
    static final int FLOOD_FACTOR = 10;
    private static final long FORGET_EVERY_MILLIS = 10_000;

    private final Vertx vertx;
    private final String reason;
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
    private final AtomicBoolean forgetting = new AtomicBoolean();
    /** Refusals, on the management port ({@code chat_rate_limited_total{limit=...}}). */
    private final Counter refusals;

    /** {@code reason}: what a refused user is told (REST {@code {"message"}}, socket error {@code reason}). */
    protected RateLimiter(int rate, String reason, Vertx vertx, Counter refusals) {
        this.vertx = vertx;
        this.refusals = refusals;
        this.reason = reason;
        this.rate = Math.max(0, rate);
        this.interval = rate == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) / rate;
        this.tolerance = (BURST_FACTOR * (long) rate - 1) * interval;
        this.refusalWeight = interval / FLOOD_FACTOR;
        this.floodTolerance = (long) FLOOD_FACTOR * BURST_FACTOR * rate * refusalWeight;
    }

    /**
     * Counts one action of the user, or refuses it: {@code 429} with {@code Retry-After} (the seconds until the
     * user may send again), thrown before anything is stored.
     */
    public void acquire(long userId) {
        if (rate == 0) {
            return;
        }
        if (!forgetting.get() && forgetting.compareAndSet(false, true)) {
            vertx.setPeriodic(FORGET_EVERY_MILLIS, id -> forgetIdle());
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
            refusals.increment();
            throw ApiException.tooManyRequests(reason, (wait[0] + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
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
