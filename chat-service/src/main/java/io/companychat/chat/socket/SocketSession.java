package io.companychat.chat.socket;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.live.LiveEvent.PresenceChanged;
import io.companychat.chat.socket.WaitingFrames.Admission;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;

/**
 * What the server keeps for one open socket: who it belongs to, the token it was opened with,
 * whether it joined {@code room:chat}, when the client last spoke, and how many frames are on
 * their way out. Kept small on purpose: a chat-service holds a hundred thousand of these.
 */
final class SocketSession {

    private static final AtomicIntegerFieldUpdater<SocketSession> PENDING =
            AtomicIntegerFieldUpdater.newUpdater(SocketSession.class, "pendingFrames");

    static final CloseReason SLOW_CONSUMER = new CloseReason(1008, "slow consumer");

    final WebSocketConnection connection;
    /**
     * The TCP connection under the socket (which Vert.x keeps anyway): what lets an abusive client be cut off at
     * once ({@link InboundFrames}); null if the upgrade did not come over one this service can pause.
     */
    final HttpConnection transport;
    final long userId;
    final String tokenId;
    final long tokenExpiresAtSecond;
    private volatile long lastHeardMillis;
    private volatile int pendingFrames;
    private volatile JsonNode chatJoinRef;
    /** A join's catch-up: while it replays, and for a while after (see {@link Replay}); null otherwise. Guarded by this. */
    private Replay replay;
    /**
     * The received frames: null while none is being handled, {@link WaitingFrames#NONE} while one is and none waits,
     * else the ones waiting behind it, oldest first. Guarded by this.
     */
    private WaitingFrames inbound;
    /** Where this socket is in its user's {@link UserSockets}; -1 when in none. Guarded by that. */
    int slot = -1;
    /** Whether {@link SocketSessions} counts this socket among the replica's open ones. Guarded by the connection. */
    boolean counted;
    /** Presence of this connection in {@code room:chat} ({@link PresenceTracker}): NONE, JOINING, STATE_PENDING, SYNCED. Guarded by its lock. */
    byte presence;
    /** When this connection last joined {@code room:chat} (unix seconds), its presence meta's {@code online_at}. */
    long onlineAt;
    /**
     * Presence changes held for the end of the diff window, or until this connection's {@code presence_state} is sent,
     * by {@code phx_ref} (the latest wins); null when none. Guarded by PresenceTracker's lock.
     */
    Map<String, PresenceChanged> heldDiffs;
    /** The diff window in which this connection last got a {@code presence_diff}. Guarded by PresenceTracker's lock. */
    int diffWindow;

    SocketSession(WebSocketConnection connection, HttpConnection transport, long userId, String tokenId,
            long tokenExpiresAtSecond) {
        this.connection = connection;
        this.transport = transport;
        this.userId = userId;
        this.tokenId = tokenId;
        this.tokenExpiresAtSecond = tokenExpiresAtSecond;
        this.lastHeardMillis = System.currentTimeMillis();
    }

    void heard() {
        lastHeardMillis = System.currentTimeMillis();
    }

    long lastHeardMillis() {
        return lastHeardMillis;
    }

    boolean joinedChat() {
        return chatJoinRef != null;
    }

    JsonNode chatJoinRef() {
        return chatJoinRef;
    }

    void joinChat(JsonNode joinRef) {
        chatJoinRef = joinRef;
    }

    void leaveChat() {
        chatJoinRef = null;
    }

    /**
     * Handles the received frames of this socket one after another, in the order they came: a
     * frame waits until the previous one's handling (a {@code send_msg}'s database round trips)
     * has completed, then runs on the Vert.x context it was received on. This is what
     * websockets-next's default {@code InboundProcessingMode.SERIAL} does, but its queue costs
     * ~1.1 KB per connection from the start (a 128-slot array), while this one exists only while
     * frames are actually waiting: an idle socket pays one field.
     * <p>
     * At most {@code maxWaiting} frames of {@code maxWaitingChars} characters in all wait. A frame beyond that is
     * not kept: {@code refusal} gets what {@link WaitingFrames#offer} made of it, at once. From the
     * {@link Admission#CLOSE} on, the socket is being closed: the frames still waiting are dropped unhandled, and
     * every later one too.
     */
    Uni<Void> inTurn(Supplier<Uni<Void>> handling, int length, int maxWaiting, int maxWaitingChars,
            Function<Admission, Uni<Void>> refusal) {
        return Uni.createFrom().emitter(emitter -> {
            Runnable handle = () -> Uni.createFrom().deferred(() -> handling.get()).subscribe().with(
                    ok -> {
                        frameHandled();
                        emitter.complete(null);
                    },
                    failure -> {
                        frameHandled();
                        emitter.fail(failure);
                    });
            boolean now = false;
            Admission admission = Admission.QUEUED;
            List<Runnable> dropped = List.of();
            synchronized (this) {
                if (inbound == null) {
                    inbound = WaitingFrames.NONE;
                    now = true;
                } else {
                    if (inbound.isNone()) {
                        inbound = WaitingFrames.create();
                    }
                    Context context = Vertx.currentContext();
                    admission = inbound.offer(context == null ? handle : () -> context.runOnContext(ignored -> handle.run()),
                            () -> emitter.complete(null), length, maxWaiting, maxWaitingChars);
                    if (admission == Admission.CLOSE) {
                        dropped = inbound.close();
                    }
                }
            }
            if (now) {
                handle.run();
            } else if (admission != Admission.QUEUED) {
                dropped.forEach(Runnable::run);
                Admission refused = admission;
                Uni.createFrom().deferred(() -> refusal.apply(refused)).subscribe().with(ok -> emitter.complete(null), emitter::fail);
            }
        });
    }

    /**
     * Stops handling this socket's frames, as an {@link Admission#CLOSE} does: those waiting are dropped unhandled,
     * and every later one too. Whether this call stopped it (false if it was stopped already).
     */
    boolean stopInbound() {
        List<Runnable> dropped;
        synchronized (this) {
            if (inbound != null && inbound.isClosed()) {
                return false;
            }
            WaitingFrames closing = inbound == null || inbound.isNone() ? WaitingFrames.create() : inbound;
            dropped = closing.close();
            inbound = closing;
        }
        dropped.forEach(Runnable::run);
        return true;
    }

    private void frameHandled() {
        Runnable next;
        synchronized (this) {
            if (inbound.isClosed()) {
                return;
            }
            next = inbound.isNone() ? null : inbound.next();
            if (next == null) {
                inbound = null;
            } else if (inbound.isEmpty()) {
                // Caught up: the refusals before are forgiven.
                inbound = WaitingFrames.NONE;
            }
        }
        if (next != null) {
            next.run();
        }
    }

    /**
     * Queues a frame unless {@code maxPending} frames are already waiting to be written, in
     * which case the client is not reading: the socket is closed rather than letting memory
     * grow. The client catches up from the history (or a join with {@code since}) when it
     * reconnects.
     */
    void send(String frame, int maxPending) {
        if (connection.isClosed()) {
            return;
        }
        if (PENDING.incrementAndGet(this) > maxPending) {
            PENDING.decrementAndGet(this);
            connection.close(SLOW_CONSUMER).subscribe().with(ok -> {
            }, failure -> {
            });
            return;
        }
        connection.sendText(frame).subscribe().with(
                ok -> PENDING.decrementAndGet(this),
                failure -> PENDING.decrementAndGet(this));
    }

    /** Delivers a live message now, or holds it while a catch-up replay is being sent. */
    /**
     * As {@link #deliverLive(long, String, int)}, unless {@code dropIf} holds once this socket's
     * frames are ours to order: a removal that already queued its {@code conversation_removed} here
     * is seen, so that frame stays the conversation's last.
     */
    synchronized void deliverLive(long messageId, String frame, int maxPending, BooleanSupplier dropIf) {
        if (!dropIf.getAsBoolean()) {
            deliverLive(messageId, frame, maxPending);
        }
    }

    synchronized void deliverLive(long messageId, String frame, int maxPending) {
        if (!joinedChat()) {
            return;
        }
        if (replay != null) {
            if (replay.held != null) {
                replay.held.add(new HeldFrame(messageId, frame));
                return;
            }
            if (System.currentTimeMillis() > replay.rememberedUntil) {
                replay = null;
            } else if (replay.carried(messageId)) {
                return;
            }
        }
        send(frame, maxPending);
    }

    synchronized void startReplay() {
        replay = new Replay();
    }

    /**
     * Sends what arrived live during the replay but the messages the replay carried ({@code replayedIds},
     * ascending), and drops those for {@code rememberMillis} more: a message can reach this replica live after the
     * catch-up read it (another replica's announcement running late).
     */
    synchronized void finishReplay(long[] replayedIds, long rememberMillis, int maxPending) {
        Replay finished = replay;
        if (finished == null) {
            return;
        }
        finished.replayed = replayedIds;
        List<HeldFrame> held = finished.held;
        finished.held = null;
        for (HeldFrame frame : held) {
            if (!finished.carried(frame.messageId())) {
                send(frame.frame(), maxPending);
            }
        }
        if (replayedIds.length == 0) {
            replay = null;
        } else {
            finished.rememberedUntil = System.currentTimeMillis() + rememberMillis;
        }
    }

    /** Live frames held while a catch-up replays, then the ids it carried. */
    private static final class Replay {
        List<HeldFrame> held = new ArrayList<>();
        long[] replayed = new long[0];
        long rememberedUntil;

        boolean carried(long messageId) {
            return Arrays.binarySearch(replayed, messageId) >= 0;
        }
    }

    private record HeldFrame(long messageId, String frame) {
    }
}
