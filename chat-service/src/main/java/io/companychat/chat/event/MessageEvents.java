package io.companychat.chat.event;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;

import io.quarkus.logging.Log;

/**
 * The seam between storing a message and delivering it live: every committed message is fired
 * as a CDI event, {@code @Observes MessageStored}, on the thread that saw the commit (a Vert.x
 * event loop). Observers must not block: live delivery only queues frames on sockets and a
 * notification for the other replicas. A failing observer is logged and never changes the
 * answer to the sender, whose message is already stored.
 */
@ApplicationScoped
public class MessageEvents {

    private final Event<MessageStored> stored;

    public MessageEvents(Event<MessageStored> stored) {
        this.stored = stored;
    }

    /** Call only once the message is committed. */
    public void published(MessageStored event) {
        try {
            stored.fire(event);
        } catch (RuntimeException failure) {
            Log.warnf(failure, "Live delivery of message %d failed", event.message().id());
        }
    }
}
