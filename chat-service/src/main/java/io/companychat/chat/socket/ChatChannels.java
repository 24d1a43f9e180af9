package io.companychat.chat.socket;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.companychat.chat.api.MessageView;
import io.companychat.chat.api.NewMessage;
import io.companychat.chat.service.MessageService;
import io.companychat.chat.service.ReadService;
import io.companychat.chat.service.TypingService;
import io.companychat.common.api.Ids;
import io.companychat.common.error.ApiException;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;

/**
 * The channels of the chat socket, as the original's {@code UserSocket} and {@code ChatRoom}:
 * the {@code phoenix} topic's heartbeat, and {@code room:chat} with its {@code send_msg} event.
 * Any other topic is refused as Phoenix refuses it ({@code unmatched topic}).
 */
@ApplicationScoped
public class ChatChannels {

    public static final String CHAT_TOPIC = "room:chat";
    public static final String SEND_MSG = "send_msg";
    public static final String MARK_READ = "mark_read";
    public static final String TYPING = "typing";
    static final String UNMATCHED_TOPIC = "unmatched topic";
    /**
     * How long a socket drops live copies of the messages its catch-up replayed: far longer than an announcement
     * takes from another replica, even a late one (the replica that stored it was killed with its NOTIFYs queued).
     */
    static final long REPLAYED_MEMORY_MILLIS = 60_000;
    private static final String SEND_MSG_INVALID = "invalid message";

    private final SocketSessions sessions;
    private final PhoenixProtocol protocol;
    private final MessageService messages;
    private final ReadService reads;
    private final TypingService typing;
    private final LiveSockets live;
    private final PresenceTracker presence;
    private final SocketConfig config;

    public ChatChannels(SocketSessions sessions, PhoenixProtocol protocol, MessageService messages, ReadService reads,
            TypingService typing, LiveSockets live, PresenceTracker presence, SocketConfig config) {
        this.sessions = sessions;
        this.presence = presence;
        this.protocol = protocol;
        this.messages = messages;
        this.reads = reads;
        this.typing = typing;
        this.live = live;
        this.config = config;
    }

    Uni<Void> handle(SocketSession session, String text) {
        PhoenixFrame frame = protocol.parse(text);
        if (frame == null) {
            send(session, protocol.malformed());
            return Uni.createFrom().voidItem();
        }
        if (PhoenixProtocol.PHOENIX_TOPIC.equals(frame.topic())) {
            send(session, PhoenixProtocol.HEARTBEAT.equals(frame.event())
                    ? protocol.replyOk(frame)
                    : protocol.replyError(frame, "unknown event"));
            return Uni.createFrom().voidItem();
        }
        if (!CHAT_TOPIC.equals(frame.topic())) {
            send(session, protocol.replyError(frame, UNMATCHED_TOPIC));
            return Uni.createFrom().voidItem();
        }
        return switch (frame.event()) {
            case PhoenixProtocol.JOIN -> join(session, frame);
            case PhoenixProtocol.LEAVE -> leave(session, frame);
            case SEND_MSG -> sendMessage(session, frame);
            case MARK_READ -> markRead(session, frame);
            case TYPING -> typing(session, frame);
            default -> {
                send(session, session.joinedChat()
                        ? protocol.replyError(frame, "unknown event")
                        : protocol.replyError(frame, UNMATCHED_TOPIC));
                yield Uni.createFrom().voidItem();
            }
        };
    }

    /** Joins {@code room:chat}; with {@code {"since": id}} first replays the caller's newer messages, oldest first. */
    private Uni<Void> join(SocketSession session, PhoenixFrame frame) {
        JsonNode since = frame.payload().get("since");
        if (since != null && !since.isNull() && !isPositiveId(since) && !"0".equals(since.asText())) {
            send(session, protocol.replyError(frame, "since must be a message id"));
            return Uni.createFrom().voidItem();
        }
        // The ok promises every event from now on: the join waits until the bus brings this replica the caller's
        // events (at once on PostgreSQL; one round trip to NATS for the first socket of a user here).
        Uni<Void> followed = Uni.createFrom().completionStage(sessions.followed(session.userId)).replaceWithVoid();
        if (since == null || since.isNull()) {
            return followed.invoke(() -> {
                session.joinChat(frame.joinRef());
                send(session, protocol.replyOk(frame, protocol.object()));
            }).chain(() -> presence.joined(session));
        }
        return followed.invoke(() -> {
            session.joinChat(frame.joinRef());
            session.startReplay();
            send(session, protocol.replyOk(frame, protocol.object()));
        }).chain(() -> presence.joined(session)).chain(() -> messages.newerFor(session.userId, since.asLong(), config.replayOverlap(),
                config.replayLimit()))
                .onFailure().invoke(failure -> Log.warnf("Catch-up replay failed: %s", failure.toString()))
                .onFailure().recoverWithItem(List.of())
                .invoke(replayed -> {
                    long[] ids = new long[replayed.size()];
                    for (int i = 0; i < ids.length; i++) {
                        MessageView message = replayed.get(i);
                        send(session, live.receiveMsg(message));
                        ids[i] = message.id();
                    }
                    Arrays.sort(ids);
                    session.finishReplay(ids, REPLAYED_MEMORY_MILLIS, config.maxPendingFrames());
                })
                .replaceWithVoid();
    }

    private Uni<Void> leave(SocketSession session, PhoenixFrame frame) {
        session.leaveChat();
        send(session, protocol.replyOk(frame, protocol.object()));
        send(session, protocol.close(frame));
        return presence.left(session);
    }

    /**
     * Stores first, then replies; every member's sockets but this one get it live. {@code user},
     * the recipient of Part 1's clients, must be the other member of a direct conversation, and
     * is omitted for a group.
     */
    private Uni<Void> sendMessage(SocketSession session, PhoenixFrame frame) {
        if (!session.joinedChat()) {
            send(session, protocol.replyError(frame, UNMATCHED_TOPIC));
            return Uni.createFrom().voidItem();
        }
        JsonNode payload = frame.payload();
        JsonNode conv = payload.get("conv");
        JsonNode user = payload.get("user");
        JsonNode clientId = payload.get("client_id");
        if (!isPositiveId(conv)) {
            send(session, protocol.replyError(frame, "conv must be a conversation id"));
            return Uni.createFrom().voidItem();
        }
        if (user != null && !user.isNull() && !isPositiveId(user)) {
            send(session, protocol.replyError(frame, "user must be a user id"));
            return Uni.createFrom().voidItem();
        }
        if (clientId != null && !clientId.isNull() && !clientId.isTextual()) {
            send(session, protocol.replyError(frame, "client_id must be a string"));
            return Uni.createFrom().voidItem();
        }
        JsonNode content = payload.get("message");
        if (content != null && !content.isNull() && !content.isTextual()) {
            // as the socket has always answered it (REST's 400 for a wrong type has no socket counterpart)
            send(session, protocol.replyError(frame, reasonFor(
                    FieldValidationException.of("content", ValidationMessages.INVALID_FORMAT))));
            return Uni.createFrom().voidItem();
        }
        Long expectedRecipient = user == null || user.isNull() ? null : user.asLong();
        NewMessage message = new NewMessage(content == null ? null : content.textValue(),
                clientId == null ? null : clientId.textValue());
        return Uni.createFrom().deferred(
                () -> messages.post(session.userId, conv.asLong(), message, expectedRecipient, session.connection.id()))
                .map(outcome -> {
                    ObjectNode response = protocol.object();
                    response.set("message", protocol.tree(outcome.value()));
                    return protocol.replyOk(frame, response);
                })
                .onFailure().recoverWithItem(failure -> protocol.replyError(frame, reasonFor(failure)))
                .invoke(reply -> send(session, reply))
                .replaceWithVoid();
    }

    /** {@code mark_read} {@code {"conv", "message_id"}}: the caller's marker forward, announced to the others. */
    private Uni<Void> markRead(SocketSession session, PhoenixFrame frame) {
        if (!session.joinedChat()) {
            send(session, protocol.replyError(frame, UNMATCHED_TOPIC));
            return Uni.createFrom().voidItem();
        }
        JsonNode conv = frame.payload().get("conv");
        JsonNode messageId = frame.payload().get("message_id");
        if (!isPositiveId(conv)) {
            send(session, protocol.replyError(frame, "conv must be a conversation id"));
            return Uni.createFrom().voidItem();
        }
        if (!isPositiveId(messageId)) {
            send(session, protocol.replyError(frame, "message_id must be a message id"));
            return Uni.createFrom().voidItem();
        }
        return answer(session, frame, "invalid read marker",
                () -> reads.markRead(session.userId, conv.asLong(), messageId.asLong(), session.connection.id()));
    }

    /** {@code typing} {@code {"conv"}}: forwarded to the other members, at most once every 2 s. */
    private Uni<Void> typing(SocketSession session, PhoenixFrame frame) {
        if (!session.joinedChat()) {
            send(session, protocol.replyError(frame, UNMATCHED_TOPIC));
            return Uni.createFrom().voidItem();
        }
        JsonNode conv = frame.payload().get("conv");
        if (!isPositiveId(conv)) {
            send(session, protocol.replyError(frame, "conv must be a conversation id"));
            return Uni.createFrom().voidItem();
        }
        return answer(session, frame, "invalid typing", () -> typing.typing(session.userId, conv.asLong()));
    }

    /** Runs an event that answers nothing but ok, and replies ok or the failure's reason. */
    private Uni<Void> answer(SocketSession session, PhoenixFrame frame, String invalidReason,
            Supplier<Uni<? extends Void>> work) {
        return Uni.createFrom().deferred(work)
                .map(done -> protocol.replyOk(frame))
                .onFailure().recoverWithItem(failure -> protocol.replyError(frame, reasonFor(failure, invalidReason)))
                .invoke(reply -> send(session, reply))
                .replaceWithVoid();
    }

    private ObjectNode reasonFor(Throwable failure) {
        return reasonFor(failure, SEND_MSG_INVALID);
    }

    private ObjectNode reasonFor(Throwable failure, String invalidReason) {
        ObjectNode response = protocol.object();
        if (failure instanceof FieldValidationException invalid) {
            response.put("reason", invalidReason);
            response.set("errors", protocol.tree(invalid.errors()));
            return response;
        }
        if (failure instanceof ApiException refused && refused.status() == 404) {
            return response.put("reason", "conversation not found");
        }
        if (failure instanceof ApiException refused && refused.status() < 500) {
            return response.put("reason", refused.getMessage());
        }
        Log.warnf("A socket event failed: %s", failure.toString());
        return response.put("reason", SEND_MSG_INVALID.equals(invalidReason) ? "message not stored, try again"
                : "not done, try again");
    }

    private void send(SocketSession session, String frame) {
        session.send(frame, config.maxPendingFrames());
    }

    /** A positive integer, as a JSON number or a string of digits (JavaScript clients send either). */
    static boolean isPositiveId(JsonNode node) {
        if (node == null) {
            return false;
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() && node.asLong() > 0;
        }
        return node.isTextual() && Ids.parse(node.textValue()).isPresent();
    }
}
