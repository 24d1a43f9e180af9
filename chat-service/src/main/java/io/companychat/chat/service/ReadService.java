package io.companychat.chat.service;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.api.ReadMarkers;
import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.ReadMoved;
import io.companychat.chat.repository.ReadRepository;
import io.companychat.chat.repository.ReadRepository.Mark;
import io.companychat.chat.repository.ReadRepository.Marked;
import io.companychat.chat.socket.LiveSockets;
import io.companychat.common.error.ApiException;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.smallrye.mutiny.Uni;

/** Read markers: moved by their member (REST and socket), read by every member ("seen by"), announced live. */
@ApplicationScoped
public class ReadService {

    static final String MESSAGE_ID = "message_id";

    private final ReadRepository reads;
    private final LiveSockets live;
    private final SignalRateLimiter rateLimiter;
    /**
     * Markers are moved in batches, as messages are written: {@code chat.signals.mark-batches} batches at once, of up to
     * the messages' batch size.
     */
    private final GroupCommit<Mark, Marked> marks;

    public ReadService(ReadRepository reads, LiveSockets live, SignalRateLimiter rateLimiter, ChatConfig config) {
        this.reads = reads;
        this.live = live;
        this.rateLimiter = rateLimiter;
        this.marks = new GroupCommit<>(reads::markRead, config.signals().markBatches(), config.messages().maxBatchSize());
    }

    /**
     * Moves the caller's marker forward to {@code messageId}; an older one leaves it where it is. A
     * move is pushed as {@code read} to every member's connections but {@code originConnectionId}
     * (the socket that asked; null over REST). 404 for a non-member, 422 on {@code message_id} for a
     * message that is not the conversation's.
     */
    public Uni<Void> markRead(long callerId, long conversationId, Long messageId, String originConnectionId) {
        if (messageId == null) {
            throw FieldValidationException.of(MESSAGE_ID, ValidationMessages.BLANK);
        }
        rateLimiter.acquire(callerId);
        return marks.write(new Mark(conversationId, callerId, messageId)).map(marked -> {
            if (marked == null) {
                throw ApiException.notFound();
            }
            if (!marked.messageFound()) {
                throw FieldValidationException.of(MESSAGE_ID, ValidationMessages.DOES_NOT_EXIST);
            }
            if (marked.moved()) {
                live.publish(new ReadMoved(conversationId, callerId, messageId, marked.memberIds(), originConnectionId));
            }
            return null;
        });
    }

    /** Every member's marker; 404 for a non-member. */
    public Uni<ReadMarkers> markers(long callerId, long conversationId) {
        return reads.markers(conversationId, callerId).map(found -> {
            if (found == null) {
                throw ApiException.notFound();
            }
            return new ReadMarkers(found.stream()
                    .map(marker -> new ReadMarkers.Marker(marker.userId(), marker.messageId())).toList());
        });
    }
}
