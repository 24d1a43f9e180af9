package io.companychat.chat.socket;

import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.live.MessageBus;
import io.quarkus.logging.Log;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.UserData.TypedKey;
import io.quarkus.websockets.next.WebSocketConnection;

/**
 * Every open chat socket of this replica, by user: a user may have many (phone, laptop, …), up to
 * {@code chat.socket.max-per-user}.
 */
@ApplicationScoped
public class SocketSessions {

    static final TypedKey<SocketSession> SESSION = new TypedKey<>("chat.session");
    static final CloseReason TOO_MANY_SOCKETS = new CloseReason(1008, "too many sockets");

    private final Map<Long, UserSockets> byUser = new ConcurrentHashMap<>();
    /** Users whose socket was cut off for abuse → until when ({@link System#nanoTime()}) they may open none. */
    /** The {@code Retry-After} of a 429 for a user at {@code chat.socket.max-per-user}. */
    static final long FULL_RETRY_AFTER_SECONDS = 5;

    private final Map<Long, Long> cutOffUntil = new ConcurrentHashMap<>();
    /** Registered sockets of all users: what the replica's cap ({@link SocketCapacity}) compares, without a walk over every user. */
    private final AtomicInteger open = new AtomicInteger();
    private final int maxPerUser;
    private final long cutOffNanos;

    private final MessageBus bus;

    public SocketSessions(SocketConfig config, MessageBus bus) {
        this.bus = bus;
        this.maxPerUser = Math.max(0, config.maxPerUser());
        this.cutOffNanos = config.abuseCutOff().toNanos();
    }

    /**
     * Registers a socket that passed {@link SocketAuthenticator} at its upgrade, once: a frame
     * handled before {@code @OnOpen} registers it too. A socket already closed is not registered.
     * One that would take its user past the limit (it was let in by an upgrade that raced with
     * others of the same user) is not registered either, and is closed with 1008.
     */
    SocketSession open(WebSocketConnection connection) {
        SocketSession session;
        synchronized (connection) {
            var data = connection.userData();
            session = data.get(SESSION);
            if (session != null) {
                return session;
            }
            session = new SocketSession(connection, data.remove(SocketAuthenticator.TRANSPORT), data.remove(SocketAuthenticator.USER_ID),
                    data.remove(SocketAuthenticator.TOKEN_ID), data.remove(SocketAuthenticator.EXPIRES_AT));
            data.put(SESSION, session);
            if (connection.isClosed()) {
                return session;
            }
            SocketSession added = session;
            byUser.compute(session.userId, (user, sockets) -> {
                if (sockets == null) {
                    return new UserSockets(added, bus.follow(user));
                }
                sockets.add(added, maxPerUser);
                return sockets;
            });
            if (added.slot >= 0) {
                added.counted = true;
                open.incrementAndGet();
            }
        }
        if (session.slot < 0) {
            Log.debugf("User %d opened more than %d sockets at once: closing the last", session.userId, maxPerUser);
            connection.close(TOO_MANY_SOCKETS).subscribe().with(ok -> {
            }, failure -> {
            });
        }
        return session;
    }

    SocketSession of(WebSocketConnection connection) {
        SocketSession session = connection.userData().get(SESSION);
        return session != null ? session : open(connection);
    }

    /** Forgets a closed socket; returns its session (null if it never had one). */
    SocketSession closed(WebSocketConnection connection) {
        SocketSession session;
        synchronized (connection) {
            session = connection.userData().get(SESSION);
            if (session != null && session.counted) {
                session.counted = false;
                open.decrementAndGet();
            }
        }
        if (session != null) {
            byUser.computeIfPresent(session.userId, (user, sockets) -> {
                if (sockets.remove(session) > 0) {
                    return sockets;
                }
                bus.unfollow(user);
                return null;
            });
        }
        return session;
    }

    /**
     * Whether the user may open one more socket here: 0 if so, else the seconds the 429 at the upgrade tells them to
     * wait ({@code Retry-After}). Not while they hold the most already ({@link #FULL_RETRY_AFTER_SECONDS}: one of
     * theirs must close first), nor for a while after one of their sockets was cut off for abuse (what is left of
     * that while, rounded up).
     */
    long secondsUntilAdmitted(long userId) {
        Long until = cutOffUntil.get(userId);
        if (until != null) {
            long left = until - System.nanoTime();
            if (left > 0) {
                return Math.max(1, (left + 999_999_999) / 1_000_000_000);
            }
            cutOffUntil.remove(userId, until);
        }
        if (maxPerUser == 0) {
            return 0;
        }
        UserSockets sockets = byUser.get(userId);
        return sockets == null || sockets.count() < maxPerUser ? 0 : FULL_RETRY_AFTER_SECONDS;
    }

    /**
     * A socket of the user was closed for abuse (flooding): no new one for {@code chat.socket.abuse-cut-off}, so
     * that a client that reconnects at once to flood again is refused at the upgrade rather than read again.
     */
    void cutOff(long userId) {
        long now = System.nanoTime();
        cutOffUntil.values().removeIf(until -> until - now <= 0);
        cutOffUntil.put(userId, now + cutOffNanos);
    }

    /**
     * Completes once the bus brings this replica the user's events (see {@link MessageBus#follow}); at once for a
     * user with no socket here.
     */
    CompletionStage<Void> followed(long userId) {
        UserSockets sockets = byUser.get(userId);
        return sockets == null ? MessageBus.FOLLOWING : sockets.followed;
    }

    /** Whether the user has an open socket on this replica. */
    boolean hasAny(long userId) {
        return byUser.containsKey(userId);
    }

    /** Runs {@code action} for every open socket of the user on this replica. */
    void forEachOfUser(long userId, Consumer<SocketSession> action) {
        UserSockets sockets = byUser.get(userId);
        if (sockets != null) {
            sockets.forEach(action);
        }
    }

    void forEach(Consumer<SocketSession> action) {
        byUser.values().forEach(sockets -> sockets.forEach(action));
    }

    public int count() {
        return byUser.values().stream().mapToInt(UserSockets::count).sum();
    }

    /** The sockets registered here, kept as they open and close (O(1), unlike {@link #count()}). */
    public int openCount() {
        return open.get();
    }

    /** Users with at least one open socket here. */
    public int connectedUsers() {
        return byUser.size();
    }
}
