package io.companychat.chat.live;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Carries live events between the chat-service replicas, so each delivers to the sockets it
 * holds: one bus message per event, whatever the number of members. PostgreSQL
 * {@code LISTEN/NOTIFY} ({@link PgMessageBus}, the default: every replica gets every event) or NATS
 * ({@link NatsMessageBus}: a replica gets the events of the users it {@linkplain #follow follows}),
 * chosen by {@code chat.bus.kind} ({@code CHAT_BUS}).
 */
public interface MessageBus {

    CompletionStage<Void> FOLLOWING = CompletableFuture.completedFuture(null);

    /**
     * After the commit of a message: the other replicas deliver it to their sockets (this one has
     * done so itself). Never fails: an event that cannot be sent is logged, and the other
     * replicas' clients catch up from the history.
     */
    void publish(LiveEvent event);

    /**
     * Within the transaction that made a membership change: every replica, this one included,
     * gets the event when (and only if) the transaction commits, and all of them in the order of
     * the commits, so that pushes about one conversation never overtake each other.
     *
     * @return once the event is part of the transaction: a stage that completes when this replica
     *         has delivered it to its own sockets (after the commit), or after a few seconds if it
     *         never comes (transaction rolled back, LISTEN connection down)
     */
    Uni<CompletionStage<Void>> publishInTransaction(SqlConnection transaction, LiveEvent event);

    /**
     * How long before a loss of the bus was noticed events may already have been lost: a link that dies silently (no
     * FIN or reset) is noticed by NATS's pings within ~15 s, by TCP keepalive on PostgreSQL's side sooner; doubled.
     */
    Duration LOSS_NOTICED_WITHIN = Duration.ofSeconds(30);

    /**
     * Receives the events every replica gets: the other replicas' messages and signals, everybody's
     * membership changes. {@code onGap} runs whenever events may have been missed (the bus lost its
     * connection, and again once it listens anew), for whoever keeps state that events keep current.
     * {@code onRestored} runs once the bus that carries messages and presence listens again after a loss (not at the
     * first subscription), and with NATS also when another replica is back from one: the events published from the
     * instant it is given on may never have come, and never will (the instant is when the loss began, less
     * {@link #LOSS_NOTICED_WITHIN}).
     */
    void subscribe(Consumer<LiveEvent> receiver, Runnable onGap, Consumer<Instant> onRestored);

    /**
     * This replica holds a socket of the user now (its first one): events addressed to them must come here. Called
     * under the user's entry in {@code SocketSessions}, so follows and unfollows of one user never overtake each
     * other; must not block.
     *
     * @return a stage that completes once the bus will bring this replica every event for the user published from
     *         now on (a join is answered after it), or after a few seconds if the bus cannot say
     */
    default CompletionStage<Void> follow(long userId) {
        return FOLLOWING;
    }

    /**
     * Whether {@link #publish} sends a new message as its written {@code receive_msg} push
     * ({@code MessageStored.frame()}), so that the publisher writes it even when none of its own sockets needs it.
     */
    default boolean carriesPushFrames() {
        return false;
    }

    /**
     * A replica died (this one reaped it): what it stored from {@code since} on may never have been announced. Every
     * other replica is told to read it again for its sockets (this one does so itself). Never fails.
     */
    void announceLoss(Instant since);

    /** The last socket of the user here closed: their events need not come here any more. Must not block. */
    default void unfollow(long userId) {
    }
}
