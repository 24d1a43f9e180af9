package io.companychat.chat.service;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.chat.Message;
import io.companychat.chat.api.MessagePage;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.api.NewMessage;
import io.companychat.chat.event.MessageEvents;
import io.companychat.chat.event.MessageStored;
import io.companychat.chat.repository.ConversationParticipants;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.chat.repository.MessageStore;
import io.companychat.chat.repository.MessageStore.NewRow;
import io.companychat.common.error.ApiException;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
public class MessageService {

    static final String CONTENT = "content";
    static final String CLIENT_ID = "client_id";

    private final ConversationParticipants participants;
    private final MessageRepository messages;
    private final MessageStore store;
    private final MessageWriter writer;
    private final MessageEvents events;
    private final MessageRateLimiter rateLimiter;

    public MessageService(ConversationParticipants participants,
            MessageRepository messages, MessageStore store, MessageWriter writer, MessageEvents events,
            MessageRateLimiter rateLimiter) {
        this.participants = participants;
        this.messages = messages;
        this.store = store;
        this.writer = writer;
        this.events = events;
        this.rateLimiter = rateLimiter;
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
        return participants.of(conversationId).chain(pair -> {
            if (pair == null || !pair.includes(callerId)) {
                return Uni.createFrom().failure(ApiException.notFound());
            }
            long recipientId = pair.other(callerId);
            if (expectedRecipientId != null && expectedRecipientId != recipientId) {
                return Uni.createFrom().failure(FieldValidationException.of("user", "is not the other participant of conv"));
            }
            // Abuse limit (issue 13): the sender's rate, after every other check, before anything is stored.
            rateLimiter.acquire(callerId);
            return writer.insertUnlessDuplicate(new NewRow(conversationId, callerId, draft.content(), receivedAt, draft.clientId()))
                    .chain(inserted -> {
                        if (inserted != null) {
                            // Committed: publish it, then answer.
                            events.published(new MessageStored(inserted, callerId, recipientId, originConnectionId));
                            return Uni.createFrom().item(new Outcome<>(inserted, true));
                        }
                        return store.findByClientId(callerId, draft.clientId())
                                .map(first -> new Outcome<>(repeated(first, conversationId), false));
                    });
        });
    }

    /** The user's messages newer than {@code sinceId} in all their conversations, oldest first (socket catch-up). */
    public Uni<List<MessageView>> newerFor(long userId, long sinceId, int limit) {
        return store.newerForParticipant(userId, sinceId, limit);
    }

    /** A page of the conversation's history, newest first; 404 unless the caller takes part in it. */
    @WithSession
    public Uni<MessagePage> history(long callerId, long conversationId, Long beforeId, int limit) {
        return participants.of(conversationId)
                .chain(pair -> pair != null && pair.includes(callerId)
                        ? messages.newestFirst(conversationId, beforeId, limit + 1)
                        : Uni.createFrom().failure(ApiException.notFound()))
                .map(found -> {
                    boolean more = found.size() > limit;
                    List<MessageView> page = found.stream().limit(limit).map(MessageView::of).toList();
                    String next = more ? Long.toString(page.get(page.size() - 1).id()) : null;
                    return new MessagePage(page, next);
                });
    }

    private static MessageView repeated(MessageView first, long conversationId) {
        if (first == null) {
            throw new IllegalStateException("client id conflict without a visible first message");
        }
        if (first.conversationId() != conversationId) {
            throw ApiException.conflict("client_id was already used for a message in another conversation");
        }
        return first;
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

}
