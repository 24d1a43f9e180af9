package io.companychat.chat.service;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.repository.TallyRepository;
import io.companychat.chat.repository.TallyRepository.Stamp;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;

/**
 * Writes message tallies (migration V7) for the conversations a reader found with a long unread
 * range, every {@code chat.conversations.tally-interval} (5 s), off the request path.
 *
 * <p>A tally's position must never change, so it is written only up to a message id below which
 * no message can still be committed. Ids come from a sequence in the order they are taken, and a
 * transaction has its id (xid) at the latest when it writes its first row, in the same statement
 * as it takes its first message id. So each tick stamps {@code max(id)} with its snapshot's
 * {@code xmax} and {@code xmin}: every message id up to stamp n's {@code lastId} was taken
 * before stamp n, by a transaction that had its xid by stamp n + 1 (an interval later), i.e. an
 * xid below stamp n + 1's {@code xmax}; once a later snapshot's {@code xmin} reaches that, all
 * those transactions have ended and stamp n's {@code lastId} is a safe horizon. Tallies lag by
 * two intervals; readers count the untallied tail as it is. An idle service stamps nothing (a
 * stamp stays a safe horizon forever, just an older one).
 */
@ApplicationScoped
public class UnreadTallies {

    /** A conversation is worth tallying when a member finds this many unread (the reader then counts fewer). */
    public static final long WORTH_TALLYING = 2L * TallyRepository.SPACING;
    /** The most conversations remembered between two ticks, and written in one tick. */
    static final int MAX_WANTED = 10_000;
    static final int PER_TICK = 500;
    private static final int STAMPS_KEPT = 16;

    private final TallyRepository tallies;
    private final Vertx vertx;
    private final long intervalMillis;
    private final Set<Long> wanted = ConcurrentHashMap.newKeySet();
    private final Deque<Stamp> stamps = new ArrayDeque<>();
    private final AtomicBoolean ticking = new AtomicBoolean();

    public UnreadTallies(TallyRepository tallies, Vertx vertx, ChatConfig config) {
        this.tallies = tallies;
        this.vertx = vertx;
        this.intervalMillis = config.conversations().tallyInterval().toMillis();
    }

    void start(@Observes StartupEvent startup) {
        vertx.setPeriodic(intervalMillis, id -> tick());
    }

    /** A member was just shown {@code unreadCount} unread in the conversation. */
    public void shown(long conversationId, long unreadCount) {
        if (unreadCount >= WORTH_TALLYING && wanted.size() < MAX_WANTED) {
            wanted.add(conversationId);
        }
    }

    private void tick() {
        if (wanted.isEmpty()) {
            return; // nothing to write: no query (the stamps kept stay valid horizons, only older)
        }
        if (!ticking.compareAndSet(false, true)) {
            return; // the last tick's statements are still running (a slow database)
        }
        tallies.stamp()
                .chain(stamp -> {
                    long horizon = horizon(stamp);
                    if (horizon == 0) {
                        return Uni.createFrom().item(0); // kept for the tick that has a horizon
                    }
                    List<Long> batch = takeWanted();
                    return batch.isEmpty() ? Uni.createFrom().item(0) : tallies.build(batch, horizon);
                })
                .subscribe().with(written -> {
                    ticking.set(false);
                    if (written > 0) {
                        Log.debugf("Wrote %d message tallies", written);
                    }
                }, failure -> {
                    ticking.set(false);
                    Log.debugf(failure, "Message tallies not written this time");
                });
    }

    /** Records the stamp; the newest {@code lastId} that is safe now (see the class comment), 0 if none yet. */
    private synchronized long horizon(Stamp now) {
        stamps.addLast(now);
        long horizon = 0;
        Stamp previous = null;
        for (Stamp stamp : stamps) {
            if (previous != null && stamp.xmax() <= now.xmin()) {
                horizon = previous.lastId();
            }
            previous = stamp;
        }
        while (stamps.size() > STAMPS_KEPT) {
            stamps.removeFirst();
        }
        return horizon;
    }

    private List<Long> takeWanted() {
        List<Long> batch = new ArrayList<>();
        for (Iterator<Long> next = wanted.iterator(); next.hasNext() && batch.size() < PER_TICK;) {
            batch.add(next.next());
            next.remove();
        }
        return batch;
    }
}
