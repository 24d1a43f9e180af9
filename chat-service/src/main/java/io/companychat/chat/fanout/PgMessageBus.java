package io.companychat.chat.fanout;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.chat.api.MessageView;
import io.companychat.common.notify.PgNotifications;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;

/**
 * {@link MessageBus} over PostgreSQL {@code NOTIFY chat_message}: every replica listens, skips
 * what it published itself, and delivers the rest to its sockets. A payload carries the message
 * itself when it fits PostgreSQL's 8000-byte limit, else only its id, which receivers read back.
 */
@ApplicationScoped
public class PgMessageBus implements MessageBus {

    static final String CHANNEL = "chat_message";
    static final int MAX_PAYLOAD_BYTES = 7900;

    private final String replicaId = UUID.randomUUID().toString().substring(0, 8);
    private final Pool pool;
    private final PgNotifications notifications;
    private final ObjectMapper mapper;

    public PgMessageBus(Pool pool, PgNotifications notifications, ObjectMapper mapper) {
        this.pool = pool;
        this.notifications = notifications;
        this.mapper = mapper;
    }

    @Override
    public void publish(LiveMessage message) {
        String payload = encode(new Envelope(replicaId, message.originConnectionId(), message.senderId(),
                message.recipientId(), message.message().id(), message.message()));
        if (payload.getBytes(StandardCharsets.UTF_8).length > MAX_PAYLOAD_BYTES) {
            payload = encode(new Envelope(replicaId, message.originConnectionId(), message.senderId(),
                    message.recipientId(), message.message().id(), null));
        }
        pool.preparedQuery("SELECT pg_notify($1, $2)").execute(Tuple.of(CHANNEL, payload)).subscribe().with(
                rows -> {
                },
                failure -> Log.warnf("Message %d not announced to other replicas (%s); their clients catch up from the history",
                        message.message().id(), failure.toString()));
    }

    @Override
    public void subscribe(Consumer<LiveMessage> receiver) {
        notifications.listen(CHANNEL, payload -> receive(payload, receiver), () -> {
        });
    }

    private void receive(String payload, Consumer<LiveMessage> receiver) {
        Envelope envelope;
        try {
            envelope = mapper.readValue(payload, Envelope.class);
        } catch (JsonProcessingException e) {
            Log.warnf("Ignoring a malformed %s notification", CHANNEL);
            return;
        }
        if (replicaId.equals(envelope.replica())) {
            return;
        }
        Uni<MessageView> message = envelope.message() != null
                ? Uni.createFrom().item(envelope.message())
                : readMessage(envelope.messageId());
        message.subscribe().with(
                found -> {
                    if (found != null) {
                        receiver.accept(new LiveMessage(found, envelope.sender(), envelope.recipient(), envelope.origin()));
                    }
                },
                failure -> Log.warnf("Message %d could not be read for live delivery (%s)", envelope.messageId(), failure.toString()));
    }

    private Uni<MessageView> readMessage(long id) {
        return pool.preparedQuery("SELECT id, conversation_id, sender_id, content, date, inserted_at FROM messages WHERE id = $1")
                .execute(Tuple.of(id))
                .map(rows -> rows.iterator().hasNext() ? toView(rows.iterator().next()) : null);
    }

    private static MessageView toView(Row row) {
        return new MessageView(row.getLong("id"), row.getLong("conversation_id"), row.getLong("sender_id"),
                row.getString("content"), row.getOffsetDateTime("date").withOffsetSameInstant(ZoneOffset.UTC).toInstant(),
                row.getOffsetDateTime("inserted_at").toInstant());
    }

    private String encode(Envelope envelope) {
        try {
            return mapper.writeValueAsString(envelope);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("notification could not be written", e);
        }
    }

    /** What travels in a notification; {@code message} is null when it would not fit. */
    public record Envelope(String replica, String origin, long sender, long recipient, long messageId, MessageView message) {
    }
}
