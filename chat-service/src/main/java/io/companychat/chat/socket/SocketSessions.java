package io.companychat.chat.socket;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import io.quarkus.websockets.next.UserData.TypedKey;
import io.quarkus.websockets.next.WebSocketConnection;

/** Every open chat socket of this replica, by user: a user may have many (phone, laptop, …). */
@ApplicationScoped
public class SocketSessions {

    static final TypedKey<SocketSession> SESSION = new TypedKey<>("chat.session");
    private static final SocketSession[] NONE = new SocketSession[0];

    private final Map<Long, SocketSession[]> byUser = new ConcurrentHashMap<>();

    /**
     * Registers a socket that passed {@link SocketAuthenticator} at its upgrade, once: a frame
     * handled before {@code @OnOpen} registers it too. A socket already closed is not registered.
     */
    SocketSession open(WebSocketConnection connection) {
        synchronized (connection) {
            var data = connection.userData();
            SocketSession session = data.get(SESSION);
            if (session != null) {
                return session;
            }
            session = new SocketSession(connection, data.remove(SocketAuthenticator.USER_ID),
                    data.remove(SocketAuthenticator.TOKEN_ID), data.remove(SocketAuthenticator.EXPIRES_AT));
            data.put(SESSION, session);
            if (!connection.isClosed()) {
                byUser.merge(session.userId, new SocketSession[] { session }, SocketSessions::concat);
            }
            return session;
        }
    }

    SocketSession of(WebSocketConnection connection) {
        SocketSession session = connection.userData().get(SESSION);
        return session != null ? session : open(connection);
    }

    void closed(WebSocketConnection connection) {
        SocketSession session;
        synchronized (connection) {
            session = connection.userData().get(SESSION);
        }
        if (session != null) {
            byUser.computeIfPresent(session.userId, (user, sessions) -> without(sessions, session));
        }
    }

    SocketSession[] ofUser(long userId) {
        return byUser.getOrDefault(userId, NONE);
    }

    void forEach(Consumer<SocketSession> action) {
        byUser.values().forEach(sessions -> {
            for (SocketSession session : sessions) {
                action.accept(session);
            }
        });
    }

    public int count() {
        return byUser.values().stream().mapToInt(sessions -> sessions.length).sum();
    }

    private static SocketSession[] concat(SocketSession[] a, SocketSession[] b) {
        SocketSession[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }

    /** The remaining sessions, or null (removing the user) when none is left. */
    private static SocketSession[] without(SocketSession[] sessions, SocketSession gone) {
        SocketSession[] kept = Arrays.stream(sessions).filter(s -> s != gone).toArray(SocketSession[]::new);
        return kept.length == 0 ? null : kept;
    }
}
