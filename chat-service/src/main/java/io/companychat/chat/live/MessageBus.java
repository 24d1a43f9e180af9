package io.companychat.chat.live;

import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;

/**
 * Carries live events between the chat-service replicas, so each delivers to the sockets it
 * holds: one bus message per event, whatever the number of members. PostgreSQL
 * {@code LISTEN/NOTIFY} today ({@link PgMessageBus}); a broker (NATS, Redis) could implement
 * {@link #publish} as is, and {@link #publishInTransaction} with an outbox table.
 */
public interface MessageBus {

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
     * Receives the events every replica gets: the other replicas' messages and signals, everybody's
     * membership changes. {@code onGap} runs whenever events may have been missed (the bus lost its
     * connection, and again once it listens anew), for whoever keeps state that events keep current.
     */
    void subscribe(Consumer<LiveEvent> receiver, Runnable onGap);
}
