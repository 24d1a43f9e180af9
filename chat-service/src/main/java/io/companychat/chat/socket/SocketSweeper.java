package io.companychat.chat.socket;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;

import io.companychat.common.security.TokenRevoked;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.websockets.next.CloseReason;
import io.vertx.core.Vertx;

/**
 * Closes the sockets that must not stay open: silent for longer than the idle timeout, opened
 * with a token that has expired (within one sweep interval) or was revoked by a logout (at
 * once), and all of them, with a proper close frame, as soon as the service is told to stop.
 */
@ApplicationScoped
public class SocketSweeper {

    static final CloseReason IDLE = new CloseReason(1000, "heartbeat timeout");
    static final CloseReason TOKEN_EXPIRED = new CloseReason(1008, "token expired");
    static final CloseReason TOKEN_REVOKED = new CloseReason(1008, "token revoked");
    static final CloseReason GOING_AWAY = new CloseReason(1001, "server shutting down");

    private final SocketSessions sessions;
    private final SocketConfig config;
    private final Vertx vertx;
    private long timerId = -1;
    private volatile boolean stopping;

    public SocketSweeper(SocketSessions sessions, SocketConfig config, Vertx vertx) {
        this.sessions = sessions;
        this.config = config;
        this.vertx = vertx;
    }

    void start(@Observes StartupEvent startup) {
        timerId = vertx.setPeriodic(config.sweepInterval().toMillis(), id -> sweep());
    }

    void tokenRevoked(@ObservesAsync TokenRevoked revoked) {
        sessions.forEach(session -> {
            if (revoked.jti().equals(session.tokenId)) {
                close(session, TOKEN_REVOKED);
            }
        });
    }

    /**
     * SIGTERM (quarkus.shutdown.delay-enabled makes Quarkus fire this first): the sockets are closed now. Quarkus
     * then waits for the requests in flight, and an open socket counts as one until it closes (UpgradedRequests):
     * left open, the sockets would hold the process for the whole shutdown timeout and then be dropped without a
     * close frame.
     */
    void shuttingDown(@Observes ShutdownDelayInitiatedEvent shutdown) {
        stopping = true;
        closeAll();
    }

    void stop(@Observes ShutdownEvent shutdown) {
        stopping = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
        closeAll();
    }

    /** Whether the service is stopping: no new socket is opened here then, the client goes to another replica. */
    boolean stopping() {
        return stopping;
    }

    private void closeAll() {
        int open = sessions.count();
        if (open > 0) {
            Log.infof("Closing %d chat sockets", open);
        }
        sessions.forEach(session -> close(session, GOING_AWAY));
    }

    private void sweep() {
        long nowMillis = System.currentTimeMillis();
        long nowSecond = nowMillis / 1000;
        long idleBefore = nowMillis - config.idleTimeout().toMillis();
        sessions.forEach(session -> {
            if (session.tokenExpiresAtSecond <= nowSecond) {
                close(session, TOKEN_EXPIRED);
            } else if (session.lastHeardMillis() < idleBefore) {
                close(session, IDLE);
            }
        });
    }

    private static void close(SocketSession session, CloseReason reason) {
        if (session.connection.isOpen()) {
            session.connection.close(reason).subscribe().with(ok -> {
            }, failure -> Log.debugf("Closing a socket failed: %s", failure.toString()));
        }
    }
}
