package io.companychat.chat.socket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

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
 * once), and all of them, with a proper close frame, as soon as the service is told to stop: paced, at most
 * {@code chat.socket.shutdown-close-rate} a second ({@code CHAT_SHUTDOWN_CLOSE_RATE}, 2,000) in slices every
 * {@value #SLICE_MILLIS} ms, but all within {@link #MOST_SPREAD}, so that a replica's clients do not all reconnect to
 * the others (join, catch-up, presence) in the same few milliseconds; phoenix.js retries 10 ms after a close.
 */
@ApplicationScoped
public class SocketSweeper {

    static final CloseReason IDLE = new CloseReason(1000, "heartbeat timeout");
    static final CloseReason TOKEN_EXPIRED = new CloseReason(1008, "token expired");
    static final CloseReason TOKEN_REVOKED = new CloseReason(1008, "token revoked");
    static final CloseReason GOING_AWAY = new CloseReason(1001, "server shutting down");
    static final long SLICE_MILLIS = 100;
    /** The longest the closes at shutdown are spread over: well within QUARKUS_SHUTDOWN_TIMEOUT (45 s deployed). */
    static final Duration MOST_SPREAD = Duration.ofSeconds(20);

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
        List<SocketSession> open = new ArrayList<>();
        sessions.forEach(open::add);
        if (open.isEmpty()) {
            return;
        }
        Collections.shuffle(open); // a user's sockets (phone, laptop) do not all go in one slice
        int perSlice = perSlice(open.size(), config.shutdownCloseRate(), MOST_SPREAD);
        Log.infof("Closing %d chat sockets, %d every %d ms", open.size(), perSlice, SLICE_MILLIS);
        closeSlices(open, 0, perSlice);
    }

    /**
     * How many sockets each slice closes: {@code perSecond} spread over the slices of a second, but enough for all of
     * them within {@code within}; all at once for a rate of 0.
     */
    static int perSlice(int sockets, int perSecond, Duration within) {
        if (perSecond <= 0) {
            return Math.max(1, sockets);
        }
        long slices = Math.max(1, within.toMillis() / SLICE_MILLIS);
        int byRate = (int) Math.max(1, perSecond * SLICE_MILLIS / 1000);
        int byDeadline = (int) ((sockets + slices - 1) / slices);
        return Math.max(byRate, byDeadline);
    }

    private void closeSlices(List<SocketSession> open, int from, int perSlice) {
        int to = Math.min(open.size(), from + perSlice);
        for (int i = from; i < to; i++) {
            close(open.get(i), GOING_AWAY);
        }
        if (to < open.size()) {
            vertx.setTimer(SLICE_MILLIS, timer -> closeSlices(open, to, perSlice));
        }
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
