package io.companychat.chat.service;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.api.ConversationList;
import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.NewConversation;
import io.companychat.chat.client.UserClient;
import io.companychat.chat.repository.ConversationRepository;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.smallrye.mutiny.Uni;

@ApplicationScoped
public class ConversationService {

    static final String RECIPIENT = "recipient_id";
    static final String ONESELF = "can't be yourself";

    private final ConversationRepository conversations;
    private final UserClient users;

    public ConversationService(ConversationRepository conversations, UserClient users) {
        this.conversations = conversations;
        this.users = users;
    }

    /**
     * The conversation between the caller and the recipient, created if the pair has none yet.
     * An existing pair is answered without asking user-service (users are never deleted). The
     * database session is not held while user-service is asked.
     */
    public Uni<Outcome<ConversationView>> start(long callerId, NewConversation request) {
        Long recipientId = request == null ? null : request.recipientId();
        if (recipientId == null) {
            throw FieldValidationException.of(RECIPIENT, ValidationMessages.BLANK);
        }
        if (recipientId <= 0) {
            throw FieldValidationException.of(RECIPIENT, ValidationMessages.DOES_NOT_EXIST);
        }
        if (recipientId == callerId) {
            throw FieldValidationException.of(RECIPIENT, ONESELF);
        }
        return Panache.withSession(() -> conversations.findByPair(callerId, recipientId))
                .chain(existing -> existing != null
                        ? Uni.createFrom().item(new Outcome<>(ConversationView.of(existing), false))
                        : create(callerId, recipientId));
    }

    @WithSession
    public Uni<ConversationList> list(long callerId) {
        return conversations.listForParticipant(callerId)
                .map(found -> new ConversationList(found.stream().map(ConversationView::of).toList()));
    }

    private Uni<Outcome<ConversationView>> create(long callerId, long recipientId) {
        return users.exists(recipientId).chain(exists -> {
            if (!exists) {
                throw FieldValidationException.of(RECIPIENT, ValidationMessages.DOES_NOT_EXIST);
            }
            // Whoever loses a race for the same pair inserts nothing and reads the winner's row.
            return Panache.withTransaction(() -> conversations.insertIfAbsent(callerId, recipientId)
                    .chain(inserted -> inserted != null
                            ? Uni.createFrom().item(new Outcome<>(ConversationView.of(inserted), true))
                            : conversations.findByPair(callerId, recipientId)
                                    .map(existing -> new Outcome<>(ConversationView.of(existing), false))));
        });
    }
}
