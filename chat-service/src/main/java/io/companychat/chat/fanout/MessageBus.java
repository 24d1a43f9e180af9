package io.companychat.chat.fanout;

import java.util.function.Consumer;

/**
 * Carries stored messages to the other chat-service replicas, so each delivers to the sockets
 * it holds. PostgreSQL {@code LISTEN/NOTIFY} today ({@link PgMessageBus}); a broker (NATS,
 * Redis) can implement this later without touching delivery.
 */
public interface MessageBus {

    /** Tells the other replicas; this replica delivers its own sockets itself. */
    void publish(LiveMessage message);

    /** Receives what other replicas published. */
    void subscribe(Consumer<LiveMessage> receiver);
}
