package io.companychat.chat.service;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;


import io.companychat.chat.Message;
import io.companychat.chat.api.MessagePage;
import io.companychat.chat.api.MessageView;
import io.companychat.chat.api.NewMessage;
import io.companychat.chat.live.LiveEvent.MessageChanged;
import io.companychat.chat.live.LiveEvent.MessageStored;
import io.companychat.chat.metrics.ChatMetrics;
import io.companychat.chat.repository.MessageRepository;
import io.companychat.chat.repository.MessageRepository.NewRow;
import io.companychat.chat.socket.LiveSockets;
import io.companychat.common.error.ApiException;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
public class MessageService {

    static final String CONTENT = "content";
    static final String CLIENT_ID = "client_id";
    static final String USER = "user";
    /** The longest search query: a few hundred words is already more than anyone types. */
    static final int MAX_QUERY_LENGTH = 500;

    private final MessageRepository messages;
    private final MessageWriter writer;
    private final LiveSockets live;
    private final MessageRateLimiter rateLimiter;
    private final SearchRateLimiter searchRateLimiter;
    private final ChatMetrics metrics;

    public MessageService(MessageRepository messages, MessageWriter writer, LiveSockets live, MessageRateLimiter rateLimiter,
            SearchRateLimiter searchRateLimiter, ChatMetrics metrics) {
        this.metrics = metrics;
        this.searchRateLimiter = searchRateLimiter;
        this.messages = messages;
        this.writer = writer;
        this.live = live;
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
     * when given, must be the other member of a direct conversation (else nothing is stored), and
     * the sending socket is named so that live delivery skips it.
     */
    public Uni<Outcome<MessageView>> post(long callerId, long conversationId, NewMessage request, Long expectedRecipientId,
            String originConnectionId) {
        Instant receivedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        Draft draft = validate(request);
        NewRow row = new NewRow(conversationId, callerId, draft.content(), receivedAt, draft.clientId(), expectedRecipientId);
        // Abuse limit (issue 13): the sender's rate, after the content rules, before anything is stored.
        rateLimiter.acquire(callerId);
        return writer.write(row).chain(written -> switch (written.fate()) {
            case STORED -> {
                // Committed: push it, then answer.
                MessageView stored = MessageView.of(written.message());
                metrics.messageStored();
                live.publish(new MessageStored(stored, written.memberIds(), originConnectionId));
                yield Uni.createFrom().item(new Outcome<>(stored, true));
            }
            case DUPLICATE -> messages.findByClientId(callerId, draft.clientId())
                    .map(first -> new Outcome<>(repeated(first, conversationId), false));
            case NOT_MEMBER -> Uni.createFrom().failure(ApiException.notFound());
            case WRONG_RECIPIENT -> Uni.createFrom().failure(
                    FieldValidationException.of(USER, "is not the other participant of conv"));
            case RECIPIENT_IN_GROUP -> Uni.createFrom().failure(
                    FieldValidationException.of(USER, "must be omitted for a group conversation"));
        });
    }

    /**
     * Replaces the text of the caller's own message; pushed as {@code message_updated} to every member. 404 unless
     * the caller is a member and it is a message of the conversation, 403 for another member's message, 409 for a
     * deleted one, 422 for content that a new message could not have (checked after who may edit, so that outsiders
     * learn nothing).
     */
    public Uni<MessageView> edit(long callerId, long conversationId, long messageId, NewMessage request) {
        Draft draft;
        try {
            draft = validate(request == null ? null : new NewMessage(request.content(), null));
        } catch (FieldValidationException invalid) {
            return refusal(callerId, conversationId, messageId, true).chain(() -> Uni.createFrom().failure(invalid));
        }
        rateLimiter.acquire(callerId);
        return messages.edit(conversationId, messageId, callerId, draft.content()).chain(changed -> {
            if (changed == null) {
                return refusal(callerId, conversationId, messageId, true).map(none -> {
                    throw ApiException.conflict("the message changed meanwhile, try again");
                });
            }
            MessageView edited = MessageView.of(changed.message());
            live.publish(new MessageChanged(edited, changed.memberIds(), false));
            return Uni.createFrom().item(edited);
        });
    }

    /**
     * Turns the caller's own message into a tombstone; pushed as {@code message_deleted}. Deleting a deleted message
     * again is no error (and no push); 403 for another member's message, 404 as for {@link #edit}.
     */
    public Uni<Void> delete(long callerId, long conversationId, long messageId) {
        rateLimiter.acquire(callerId);
        return messages.delete(conversationId, messageId, callerId).chain(changed -> {
            if (changed == null) {
                return refusal(callerId, conversationId, messageId, false);
            }
            live.publish(new MessageChanged(MessageView.of(changed.message()), changed.memberIds(), true));
            return Uni.createFrom().voidItem();
        });
    }

    /**
     * Why an edit or delete changed nothing, as an error (or nothing, for a delete of a tombstone): 404 for
     * outsiders and messages of other conversations, 403 for others' messages, 409 for editing a tombstone.
     */
    private Uni<Void> refusal(long callerId, long conversationId, long messageId, boolean editing) {
        return messages.standing(conversationId, messageId, callerId).map(standing -> {
            if (standing == null) {
                throw ApiException.notFound();
            }
            if (standing.senderId() != callerId) {
                throw ApiException.forbidden();
            }
            if (standing.deleted() && editing) {
                throw ApiException.conflict("a deleted message cannot be edited");
            }
            return null;
        });
    }

    /**
     * Messages whose words match {@code query} (API.md's query language, {@link SearchQuery}), newest first, in the
     * caller's conversations now (or the one given: 404 unless a member).
     */
    public Uni<MessagePage> search(long callerId, String query, Long conversationId, Long beforeId, int limit) {
        if (query == null || isBlank(query)) {
            throw ApiException.badRequest("q must be one or more words");
        }
        if (query.length() > MAX_QUERY_LENGTH || !isStorable(query)) {
            throw ApiException.badRequest("q must be at most " + MAX_QUERY_LENGTH + " characters of text");
        }
        SearchQuery terms = SearchQuery.parse(query);
        searchRateLimiter.acquire(callerId);
        Uni<Boolean> allowed = conversationId == null ? Uni.createFrom().item(true)
                : messages.isMember(conversationId, callerId);
        return allowed.chain(member -> {
            if (!member) {
                throw ApiException.notFound();
            }
            return messages.search(callerId, terms.words(), terms.excluded(), conversationId, beforeId, limit + 1);
        }).map(found -> {
            boolean more = found.size() > limit;
            List<MessageView> page = found.stream().limit(limit).map(MessageView::of).toList();
            return new MessagePage(page, more ? Long.toString(page.get(page.size() - 1).id()) : null);
        });
    }

    /**
     * Socket catch-up: the user's messages newer than {@code sinceId} in all their conversations, and those stored in
     * the {@code overlap} before it (they may have been committed after it, see {@link MessageRepository#replayFrom}),
     * oldest first; not {@code sinceId} itself.
     */
    public Uni<List<MessageView>> newerFor(long userId, long sinceId, Duration overlap, int limit) {
        return messages.replayFrom(sinceId, overlap)
                .chain(afterId -> messages.newerForMember(userId, afterId, sinceId, limit))
                .map(found -> found.stream().map(MessageView::of).toList());
    }

    /** A page of the conversation's history, newest first; 404 unless the caller is a member of it now. */
    public Uni<MessagePage> history(long callerId, long conversationId, Long beforeId, int limit) {
        return messages.historyForMember(conversationId, callerId, beforeId, limit + 1).map(found -> {
            if (found == null) {
                throw ApiException.notFound();
            }
            boolean more = found.size() > limit;
            List<MessageView> page = found.stream().limit(limit).map(MessageView::of).toList();
            String next = more ? Long.toString(page.get(page.size() - 1).id()) : null;
            return new MessagePage(page, next);
        });
    }

    private static MessageView repeated(Message first, long conversationId) {
        if (first == null) {
            throw new IllegalStateException("client id conflict without a visible first message");
        }
        if (first.conversationId() != conversationId) {
            throw ApiException.conflict("client_id was already used for a message in another conversation");
        }
        return MessageView.of(first);
    }

    private static Draft validate(NewMessage request) {
        Map<String, List<String>> errors = new LinkedHashMap<>();
        String text = request == null ? null : request.content();
        if (text == null) {
            errors.put(CONTENT, List.of(ValidationMessages.BLANK));
        } else {
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
