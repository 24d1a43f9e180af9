package io.companychat.chat.fanout;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.chat.event.MessageStored;
import io.companychat.chat.socket.LiveSockets;
import io.quarkus.runtime.StartupEvent;

/**
 * Delivers every stored message to the live sockets of both participants: this replica's at
 * once, the other replicas' through the {@link MessageBus}.
 */
@ApplicationScoped
public class LiveDelivery {

    private final LiveSockets sockets;
    private final MessageBus bus;

    public LiveDelivery(LiveSockets sockets, MessageBus bus) {
        this.sockets = sockets;
        this.bus = bus;
    }

    void start(@Observes StartupEvent startup) {
        bus.subscribe(sockets::deliver);
    }

    void stored(@Observes MessageStored stored) {
        LiveMessage message = new LiveMessage(stored.message(), stored.senderId(), stored.recipientId(),
                stored.originConnectionId());
        sockets.deliver(message);
        bus.publish(message);
    }
}
