package io.companychat.chat.event;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;

import io.quarkus.logging.Log;

/**
 * The seam between storing a message and delivering it live: every committed message is fired
 * as an asynchronous CDI event, {@code @ObservesAsync MessageStored}. Observers (live delivery)
 * run off the request, so a failing or slow delivery never changes the answer to the sender,
 * whose message is already stored.
 */
@ApplicationScoped
public class MessageEvents {

    private final Event<MessageStored> stored;

    public MessageEvents(Event<MessageStored> stored) {
        this.stored = stored;
    }

    /** Call only once the message is committed. */
    public void published(MessageStored event) {
        stored.fireAsync(event).exceptionally(failure -> {
            Log.warnf(failure, "Live delivery of message %d failed", event.message().id());
            return null;
        });
    }
}
