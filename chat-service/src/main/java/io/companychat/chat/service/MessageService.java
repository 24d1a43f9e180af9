package io.companychat.chat.service;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.NotFoundException;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.Conversation;
import io.companychat.chat.Message;
import io.companychat.chat.api.MessagePage;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.api.NewMessage;
import io.companychat.chat.event.MessageEvents;
import io.companychat.chat.event.MessageStored;
import io.companychat.chat.repository.ConversationRepository;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
public class MessageService {

    static final String CONTENT = "content";
    static final String CLIENT_ID = "client_id";

    private final ConversationRepository conversations;
    private final MessageRepository messages;
    private final MessageEvents events;

    public MessageService(ConversationRepository conversations, MessageRepository messages, MessageEvents events) {
        this.conversations = conversations;
        this.messages = messages;
        this.events = events;
    }

    /**
     * Stores the caller's message, dated now, and publishes it once committed. A client id the
     * caller used before returns that first message instead, stores nothing and publishes nothing.
     */
    public Uni<Outcome<MessageView>> post(long callerId, long conversationId, NewMessage request) {
        return post(callerId, conversationId, request, null, null);
    }

    /**
     * As {@link #post(long, long, NewMessage)}, for the chat socket: {@code expectedRecipientId},
     * when given, must be the other participant (else nothing is stored), and the sending socket
     * is named so that live delivery skips it.
     */
    public Uni<Outcome<MessageView>> post(long callerId, long conversationId, NewMessage request, Long expectedRecipientId,
            String originConnectionId) {
        Instant receivedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Draft draft = validate(request);
        // The transaction is explicit so that publishing happens after its commit, never before.
        return Panache.withTransaction(() -> store(callerId, conversationId, draft, receivedAt, expectedRecipientId))
                .invoke(stored -> {
                    if (stored.created()) {
                        events.published(new MessageStored(stored.message(), callerId, stored.recipientId(),
                                originConnectionId));
                    }
                })
                .map(stored -> new Outcome<>(stored.message(), stored.created()));
    }

    /** The user's messages newer than {@code sinceId} in all their conversations, oldest first (socket catch-up). */
    @WithSession
    public Uni<List<MessageView>> newerFor(long userId, long sinceId, int limit) {
        return messages.newerForParticipant(userId, sinceId, limit)
                .map(found -> found.stream().map(MessageView::of).toList());
    }

    /** A page of the conversation's history, newest first; 404 unless the caller takes part in it. */
    @WithSession
    public Uni<MessagePage> history(long callerId, long conversationId, Long beforeId, int limit) {
        return participantOnly(callerId, conversationId)
                .chain(conversation -> messages.newestFirst(conversationId, beforeId, limit + 1))
                .map(found -> {
                    boolean more = found.size() > limit;
                    List<MessageView> page = found.stream().limit(limit).map(MessageView::of).toList();
                    String next = more ? Long.toString(page.get(page.size() - 1).id()) : null;
                    return new MessagePage(page, next);
                });
    }

    private Uni<Stored> store(long callerId, long conversationId, Draft draft, Instant receivedAt, Long expectedRecipientId) {
        return participantOnly(callerId, conversationId).chain(conversation -> {
            long recipientId = conversation.otherParticipant(callerId);
            if (expectedRecipientId != null && expectedRecipientId != recipientId) {
                return Uni.createFrom().failure(FieldValidationException.of("user", "is not the other participant of conv"));
            }
            return messages.insertUnlessDuplicate(conversationId, callerId, draft.content(), receivedAt, draft.clientId())
                    .chain(inserted -> inserted != null
                            ? conversations.recordActivity(conversationId, inserted.date)
                                    .replaceWith(new Stored(MessageView.of(inserted), recipientId, true))
                            : messages.findByClientId(callerId, draft.clientId())
                                    .map(first -> repeated(first, conversationId, recipientId)));
        });
    }

    private static Stored repeated(Message first, long conversationId, long recipientId) {
        if (first == null) {
            throw new IllegalStateException("client id conflict without a visible first message");
        }
        if (first.conversationId != conversationId) {
            throw RequestRejectedException.conflict("client_id was already used for a message in another conversation");
        }
        return new Stored(MessageView.of(first), recipientId, false);
    }

    private Uni<Conversation> participantOnly(long callerId, long conversationId) {
        return conversations.findForParticipant(conversationId, callerId)
                .onItem().ifNull().failWith(NotFoundException::new);
    }

    private static Draft validate(NewMessage request) {
        Map<String, List<String>> errors = new LinkedHashMap<>();
        JsonNode content = request == null ? null : request.content();
        String text = null;
        if (content == null || content.isNull()) {
            errors.put(CONTENT, List.of(ValidationMessages.BLANK));
        } else if (!content.isTextual()) {
            errors.put(CONTENT, List.of(ValidationMessages.INVALID_FORMAT));
        } else {
            text = content.textValue();
            check(text, Message.MAX_CONTENT_LENGTH, CONTENT, errors);
        }
        String clientId = request == null ? null : request.clientId();
        if (clientId != null) {
            check(clientId, Message.MAX_CLIENT_ID_LENGTH, CLIENT_ID, errors);
        }
        if (!errors.isEmpty()) {
            throw new FieldValidationException(errors);
        }
        return new Draft(text, clientId);
    }

    /** Lengths count characters as PostgreSQL does (code points), so an emoji counts once. */
    private static void check(String text, int maxLength, String field, Map<String, List<String>> errors) {
        if (isBlank(text)) {
            errors.put(field, List.of(ValidationMessages.BLANK));
        } else if (text.codePointCount(0, text.length()) > maxLength) {
            errors.put(field, List.of(ValidationMessages.tooLong(maxLength)));
        } else if (!isStorable(text)) {
            errors.put(field, List.of(ValidationMessages.INVALID_FORMAT));
        }
    }

    /** Nothing left once whitespace, no-break spaces and control characters are trimmed away. */
    private static boolean isBlank(String text) {
        return text.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c)
                || Character.isISOControl(c));
    }

    /** PostgreSQL text holds neither NUL nor half of a surrogate pair; refuse them rather than fail or alter them. */
    private static boolean isStorable(String text) {
        return text.codePoints().noneMatch(c -> c == 0 || Character.getType(c) == Character.SURROGATE);
    }

    private record Draft(String content, String clientId) {
    }

    private record Stored(MessageView message, long recipientId, boolean created) {
    }
}
