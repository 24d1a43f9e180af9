package io.companychat.chat.fanout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.chat.api.MessageView;
import io.companychat.chat.repository.MessageStore;
import io.companychat.common.notify.PgNotifications;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * {@link MessageBus} over PostgreSQL {@code NOTIFY chat_message}. Every replica listens and
 * delivers what the others published to its sockets.
 *
 * <p>A notification is {@code <replica id>\n<JSON array of envelopes>}: messages published while
 * the previous notification was on its way go out together, as many as fit PostgreSQL's
 * 8000-byte payload, so a busy replica sends one NOTIFY per batch of messages rather than one
 * per message. A replica recognises its own notifications by the prefix and drops them unread.
 * An envelope carries the message itself when it fits alone, else only its id, which receivers
 * read back.
 */
@ApplicationScoped
public class PgMessageBus implements MessageBus {

    static final String CHANNEL = "chat_message";
    static final int MAX_PAYLOAD_BYTES = 7900;
    private static final TypeReference<List<Envelope>> ENVELOPES = new TypeReference<>() {
    };

    private final String replicaId = UUID.randomUUID().toString().substring(0, 8);
    private final String ownPrefix = replicaId + "\n";
    private final Pool pool;
    private final PgNotifications notifications;
    private final MessageStore store;
    private final ObjectMapper mapper;
    private final Queue<byte[]> unsent = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();

    public PgMessageBus(Pool pool, PgNotifications notifications, MessageStore store, ObjectMapper mapper) {
        this.pool = pool;
        this.notifications = notifications;
        this.store = store;
        this.mapper = mapper;
    }

    @Override
    public void publish(LiveMessage message) {
        Envelope envelope = new Envelope(message.originConnectionId(), message.senderId(), message.recipientId(),
                message.message().id(), message.message());
        byte[] encoded = encode(envelope);
        if (encoded.length + ownPrefix.length() + 2 > MAX_PAYLOAD_BYTES) {
            encoded = encode(new Envelope(envelope.origin(), envelope.sender(), envelope.recipient(), envelope.messageId(),
                    null));
        }
        unsent.add(encoded);
        if (sending.compareAndSet(false, true)) {
            sendUnsent();
        }
    }

    /** Runs while holding {@code sending}: sends everything queued, then lets go. */
    private void sendUnsent() {
        List<String> payloads = drainIntoPayloads();
        if (payloads.isEmpty()) {
            sending.set(false);
            if (!unsent.isEmpty() && sending.compareAndSet(false, true)) {
                sendUnsent(); // published between the drain and letting go
            }
            return;
        }
        pool.preparedQuery("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
                .execute(Tuple.of(CHANNEL, payloads.toArray(String[]::new)))
                .subscribe().with(
                        sent -> sendUnsent(),
                        failure -> {
                            Log.warnf("%d notifications to other replicas not sent (%s); their clients catch up from the history",
                                    payloads.size(), failure.toString());
                            sendUnsent();
                        });
    }

    private List<String> drainIntoPayloads() {
        List<String> payloads = new ArrayList<>();
        StringBuilder payload = null;
        int payloadBytes = 0;
        for (byte[] envelope; (envelope = unsent.poll()) != null;) {
            if (payload != null && payloadBytes + 1 + envelope.length + 1 > MAX_PAYLOAD_BYTES) {
                payloads.add(payload.append(']').toString());
                payload = null;
            }
            if (payload == null) {
                payload = new StringBuilder(ownPrefix).append('[');
                payloadBytes = ownPrefix.length() + 1;
            } else {
                payload.append(',');
                payloadBytes++;
            }
            payload.append(new String(envelope, StandardCharsets.UTF_8));
            payloadBytes += envelope.length;
        }
        if (payload != null) {
            payloads.add(payload.append(']').toString());
        }
        return payloads;
    }

    @Override
    public void subscribe(Consumer<LiveMessage> receiver) {
        notifications.listen(CHANNEL, payload -> receive(payload, receiver), () -> {
        });
    }

    private void receive(String payload, Consumer<LiveMessage> receiver) {
        if (payload.startsWith(ownPrefix)) {
            return;
        }
        int newline = payload.indexOf('\n');
        List<Envelope> envelopes;
        try {
            envelopes = mapper.readValue(payload.substring(newline + 1), ENVELOPES);
        } catch (JsonProcessingException e) {
            Log.warnf("Ignoring a malformed %s notification", CHANNEL);
            return;
        }
        for (Envelope envelope : envelopes) {
            Uni<MessageView> message = envelope.message() != null
                    ? Uni.createFrom().item(envelope.message())
                    : store.findById(envelope.messageId());
            message.subscribe().with(
                    found -> {
                        if (found != null) {
                            receiver.accept(new LiveMessage(found, envelope.sender(), envelope.recipient(), envelope.origin()));
                        }
                    },
                    failure -> Log.warnf("Message %d could not be read for live delivery (%s)", envelope.messageId(),
                            failure.toString()));
        }
    }

    private byte[] encode(Envelope envelope) {
        try {
            return mapper.writeValueAsBytes(envelope);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("notification could not be written", e);
        }
    }

    /** One message in a notification; {@code message} is null when it would not fit. */
    public record Envelope(String origin, long sender, long recipient, long messageId, MessageView message) {
    }
}
