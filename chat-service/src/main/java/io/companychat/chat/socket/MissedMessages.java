package io.companychat.chat.socket;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToIntFunction;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.repository.MessageRepository;
import io.companychat.chat.repository.MessageRepository.Changed;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Multi;
import io.vertx.core.Vertx;

/**
 * After a loss of the live events bus, the messages this replica's sockets missed: those stored since the loss began
 * (see {@code MessageBus#subscribe}) in the conversations of the users joined here, read
 * {@value #USERS_PER_STATEMENT} users to a statement, one statement at a time, and handed to {@link LiveSockets},
 * which pushes those it did not deliver already. Sockets that stay open meanwhile get what the other replicas stored
 * while the bus was away without rejoining; a client has no way to know it missed them.
 *
 * <p>Requests that come within {@value #GATHER_MILLIS} ms of each other (after a NATS restart, this replica's own
 * loss and every other replica's request) are served by one read from the earliest instant. A read that fails is
 * tried again {@value #RETRY_MILLIS} ms later.
 */
@ApplicationScoped
public class MissedMessages {

    static final int USERS_PER_STATEMENT = 200;
    static final long GATHER_MILLIS = 500;
    static final long RETRY_MILLIS = 1000;

    private final SocketSessions sessions;
    private final MessageRepository messages;
    private final SocketConfig config;
    private final Vertx vertx;
    /** The earliest instant asked for since the last read began; null when no read is due. Guarded by this. */
    private Instant pendingFrom;

    public MissedMessages(SocketSessions sessions, MessageRepository messages, SocketConfig config, Vertx vertx) {
        this.sessions = sessions;
        this.messages = messages;
        this.config = config;
        this.vertx = vertx;
    }

    /**
     * Reads, soon, what was stored from {@code missedSince} on for the users joined here, and passes it to
     * {@code deliver} in batches (oldest first within each), which answers how many it pushed.
     */
    void readSince(Instant missedSince, ToIntFunction<List<Changed>> deliver) {
        synchronized (this) {
            boolean due = pendingFrom != null;
            if (!due || missedSince.isBefore(pendingFrom)) {
                pendingFrom = missedSince;
            }
            if (due) {
                return;
            }
        }
        vertx.setTimer(GATHER_MILLIS, timer -> read(deliver));
    }

    private void read(ToIntFunction<List<Changed>> deliver) {
        Instant from;
        synchronized (this) {
            from = pendingFrom;
            pendingFrom = null;
        }
        Set<Long> joined = new HashSet<>();
        sessions.forEach(session -> {
            if (session.joinedChat()) {
                joined.add(session.userId);
            }
        });
        long[] counts = new long[2];
        Multi.createFrom().iterable(joined).group().intoLists().of(USERS_PER_STATEMENT)
                .onItem().transformToUniAndConcatenate(users -> messages.storedSinceFor(users, from, config.replayLimit()))
                .subscribe().with(found -> {
                    counts[0] += found.size();
                    counts[1] += deliver.applyAsInt(found);
                }, failure -> {
                    Log.warnf("Messages stored since %s not read again for the sockets here (%s); trying again in %d ms",
                            from, failure.toString(), RETRY_MILLIS);
                    vertx.setTimer(RETRY_MILLIS, timer -> readSince(from, deliver));
                }, () -> Log.infof("Catch-up after a loss: %d messages stored since %s read again for %d users here,"
                        + " %d of them not delivered here before and pushed now", counts[0], from, joined.size(), counts[1]));
    }
}
