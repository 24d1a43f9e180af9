package io.companychat.chat.service;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.LongStream;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.Conversation;
import io.companychat.chat.api.ConversationChange;
import io.companychat.chat.api.ConversationList;
import io.companychat.chat.api.ConversationView;
import io.companychat.chat.api.NewConversation;
import io.companychat.chat.api.NewMember;
import io.companychat.chat.client.UserClient;
import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.ContactsChanged;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.ConversationRemoved;
import io.companychat.chat.repository.ConversationRepository;
import io.companychat.chat.repository.ConversationRepository.MemberConversation;
import io.companychat.chat.repository.ConversationRepository.MembershipState;
import io.companychat.chat.socket.LiveSockets;
import io.companychat.common.error.ApiException;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.pgclient.PgException;

/**
 * Direct conversations and groups: creation, reads, renames and membership. Every membership
 * change of a conversation holds its row lock (so two at once take turns and see each other), and
 * announces itself to the members' sockets from inside its transaction (so every replica sees the
 * changes of one conversation in the order they were committed).
 */
@ApplicationScoped
public class ConversationService {

    static final String RECIPIENT = "recipient_id";
    static final String TITLE = "title";
    static final String MEMBERS = "member_ids";
    static final String USER = "user_id";
    static final String INVALID = "is invalid";
    static final int MAX_OTHER_MEMBERS = Conversation.MAX_GROUP_MEMBERS - 1;
    /** user-service lookups in flight at once for one new group. */
    static final int USER_LOOKUPS_AT_ONCE = 8;
    private static final String FOREIGN_KEY_VIOLATION = "23503";

    private final ConversationRepository conversations;
    private final UserClient users;
    private final LiveSockets live;
    private final ChatConfig config;
    private final UnreadTallies tallies;

    public ConversationService(ConversationRepository conversations, UserClient users, LiveSockets live,
            ChatConfig config, UnreadTallies tallies) {
        this.conversations = conversations;
        this.users = users;
        this.live = live;
        this.config = config;
        this.tallies = tallies;
    }

    /**
     * {@code recipient_id} alone: the direct conversation of the pair, created if it has none.
     * {@code member_ids} (or a {@code title} without a recipient): a new group.
     */
    public Uni<Outcome<ConversationView>> start(long callerId, NewConversation request) {
        if (request != null && (request.memberIds() != null || request.recipientId() == null && request.title() != null)) {
            return createGroup(callerId, request);
        }
        return startDirect(callerId, request);
    }

    /** The conversation, for a member of it; 404 for anyone else. */
    public Uni<ConversationView> get(long callerId, long conversationId) {
        return conversations.findForMember(conversationId, callerId).map(found -> {
            if (found == null) {
                throw ApiException.notFound();
            }
            noteUnread(found);
            return view(found);
        });
    }

    /** The caller's conversations, most recent activity first, at most {@code chat.conversations.list-limit}. */
    public Uni<ConversationList> list(long callerId) {
        return conversations.listForMember(callerId, config.conversations().listLimit())
                .map(found -> {
                    found.forEach(this::noteUnread);
                    return new ConversationList(found.stream().map(ConversationService::view).toList());
                });
    }

    /**
     * Renames a group; any member may. A direct conversation's title is {@code is invalid} whatever the title sent
     * (API.md), so the title's own rules are checked once the conversation is known to be a group.
     */
    public Uni<ConversationView> rename(long callerId, long conversationId, ConversationChange change) {
        String title = change == null ? null : change.title();
        return changeMembership(conversationId, callerId, callerId, (tx, state) -> {
            if (!state.isGroup()) {
                throw FieldValidationException.of(TITLE, INVALID);
            }
            String invalidTitle = titleError(title);
            if (invalidTitle != null) {
                throw FieldValidationException.of(TITLE, invalidTitle);
            }
            return conversations.rename(tx, conversationId, title)
                    .chain(() -> announceChange(tx, conversationId, null, callerId));
        }).map(changed -> changed.view());
    }

    /** Adds a user to a group; any member may. Already a member: the group unchanged. */
    public Uni<ConversationView> addMember(long callerId, long conversationId, NewMember request) {
        Long userId = request == null ? null : request.userId();
        if (userId == null) {
            throw FieldValidationException.of(USER, ValidationMessages.BLANK);
        }
        // Checked before asking user-service, then again under the row lock.
        return conversations.findForMember(conversationId, callerId).chain(found -> {
            if (found == null) {
                throw ApiException.notFound();
            }
            Conversation conversation = found.conversation();
            if (!conversation.isGroup()) {
                throw FieldValidationException.of(USER, INVALID);
            }
            if (conversation.memberIds().contains(userId)) {
                return Uni.createFrom().item(view(found));
            }
            if (conversation.memberIds().size() >= Conversation.MAX_GROUP_MEMBERS) {
                throw FieldValidationException.of(USER, INVALID);
            }
            return allExist(Set.of(userId)).chain(exists -> {
                if (!exists) {
                    throw FieldValidationException.of(USER, ValidationMessages.DOES_NOT_EXIST);
                }
                return changeMembership(conversationId, callerId, userId, (tx, state) -> {
                    if (state.userIsMember()) {
                        return conversations.findForMember(tx, conversationId, callerId)
                                .map(unchanged -> new Changed(view(unchanged), null));
                    }
                    if (state.memberCount() >= Conversation.MAX_GROUP_MEMBERS) {
                        throw FieldValidationException.of(USER, INVALID);
                    }
                    return conversations.addMember(tx, conversationId, userId)
                            .chain(() -> announceChange(tx, conversationId, null, callerId));
                }).invoke(this::contactsChanged).map(changed -> changed.view());
            });
        });
    }

    /**
     * Removes a member of a group: themself (leaving) or, for its creator only, anyone. A direct
     * conversation: 403. Someone who is not a member: nothing to do.
     */
    public Uni<Void> removeMember(long callerId, long conversationId, long userId) {
        return changeMembership(conversationId, callerId, userId, (tx, state) -> {
            if (!state.isGroup() || userId != callerId && callerId != state.creatorId()) {
                throw ApiException.forbidden();
            }
            if (!state.userIsMember()) {
                return Uni.createFrom().item(new Changed(null, null));
            }
            return conversations.removeMember(tx, conversationId, userId).chain(() -> announceChange(tx, conversationId,
                    new ConversationRemoved(conversationId, userId), null));
        }).invoke(changed -> {
            if (changed.delivered() != null) {
                live.publish(new ContactsChanged(LongStream.concat(changed.view().memberIds().stream().mapToLong(Long::longValue),
                        LongStream.of(userId)).toArray()));
            }
        }).replaceWithVoid();
    }

    private Uni<Outcome<ConversationView>> startDirect(long callerId, NewConversation request) {
        Long recipientId = request == null ? null : request.recipientId();
        if (recipientId == null) {
            throw FieldValidationException.of(RECIPIENT, ValidationMessages.BLANK);
        }
        if (request.title() != null) {
            throw FieldValidationException.of(TITLE, INVALID);
        }
        if (recipientId <= 0) {
            throw FieldValidationException.of(RECIPIENT, ValidationMessages.DOES_NOT_EXIST);
        }
        if (recipientId == callerId) {
            // API.md gives the status only; of the messages its conventions name for a 422, this is the one that fits
            throw FieldValidationException.of(RECIPIENT, INVALID);
        }
        // An existing pair is answered without asking user-service (users are never deleted).
        return existingDirect(callerId, recipientId).chain(existing -> existing != null
                ? Uni.createFrom().item(new Outcome<>(existing, false))
                : users.exists(recipientId).chain(exists -> {
                    if (!exists) {
                        throw FieldValidationException.of(RECIPIENT, ValidationMessages.DOES_NOT_EXIST);
                    }
                    // Whoever loses a race for the same pair inserts nothing and reads the winner's row.
                    return conversations.insertDirectIfAbsent(callerId, recipientId).chain(inserted -> inserted != null
                            ? Uni.createFrom().item(new Outcome<>(ConversationView.created(inserted), true))
                                    .invoke(() -> live.publish(new ContactsChanged(new long[] { callerId, recipientId })))
                            : existingDirect(callerId, recipientId).map(found -> new Outcome<>(found, false)));
                }));
    }

    private Uni<ConversationView> existingDirect(long callerId, long recipientId) {
        return conversations.findDirectId(callerId, recipientId).chain(id -> id == null
                ? Uni.createFrom().nullItem()
                : conversations.findForMember(id, callerId).map(ConversationService::view));
    }

    private Uni<Outcome<ConversationView>> createGroup(long callerId, NewConversation request) {
        Map<String, List<String>> errors = new LinkedHashMap<>();
        String invalidTitle = titleError(request.title());
        if (invalidTitle != null) {
            errors.put(TITLE, List.of(invalidTitle));
        }
        Set<Long> others = new TreeSet<>();
        if (request.memberIds() != null) {
            for (Long id : request.memberIds()) {
                if (id == null) {
                    throw ApiException.badRequest("member_ids must be user ids");
                }
                if (id != callerId) {
                    others.add(id);
                }
            }
        }
        if (request.recipientId() != null) {
            errors.put(MEMBERS, List.of(INVALID));
        } else if (others.isEmpty()) {
            errors.put(MEMBERS, List.of(ValidationMessages.BLANK));
        } else if (others.size() > MAX_OTHER_MEMBERS) {
            errors.put(MEMBERS, List.of("should be at most " + MAX_OTHER_MEMBERS + " item(s)"));
        }
        if (!errors.isEmpty()) {
            throw new FieldValidationException(errors);
        }
        Set<Long> members = new TreeSet<>(others);
        members.add(callerId);
        return allExist(others).chain(exist -> {
            if (!exist) {
                throw FieldValidationException.of(MEMBERS, ValidationMessages.DOES_NOT_EXIST);
            }
            return conversations.inTransaction(tx -> conversations.insertGroup(tx, callerId, request.title(), List.copyOf(members))
                    .chain(group -> {
                        ConversationView view = ConversationView.created(group);
                        return live.publishInTransaction(tx, new ConversationChanged(view.shared()))
                                .map(delivered -> new Changed(view, delivered));
                    }));
        })
                .onFailure(ConversationService::isForeignKeyViolation)
                .transform(failure -> FieldValidationException.of(MEMBERS, ValidationMessages.DOES_NOT_EXIST))
                .chain(ConversationService::deliveredHere)
                .invoke(this::contactsChanged)
                .map(changed -> new Outcome<>(changed.view(), true));
    }

    /**
     * Runs a membership change in one transaction, holding the conversation's row lock: 404
     * unless the caller is a member (looked at under the lock). Answers once this replica's
     * sockets have the change's events.
     */
    private Uni<Changed> changeMembership(long conversationId, long callerId, long userId, MembershipChange change) {
        return conversations.inTransaction(tx -> conversations.lockForMembershipChange(tx, conversationId, callerId, userId)
                .chain(state -> {
                    if (state == null || !state.callerIsMember()) {
                        throw ApiException.notFound();
                    }
                    return change.apply(tx, state);
                }))
                .chain(ConversationService::deliveredHere);
    }

    /**
     * Announces a change inside its transaction: first the removal (if someone was removed), then
     * the conversation as it now is, to its members. The change's answer is the conversation as
     * {@code callerId} sees it (with their read state), when they are still a member.
     */
    private Uni<Changed> announceChange(SqlConnection tx, long conversationId, ConversationRemoved removal,
            Long callerId) {
        Uni<CompletionStage<Void>> removed = removal == null ? Uni.createFrom().item(CompletableFuture.completedStage(null))
                : live.publishInTransaction(tx, removal);
        Uni<MemberConversation> now = callerId == null ? conversations.find(tx, conversationId)
                : conversations.findForMember(tx, conversationId, callerId);
        return removed.chain(removedHere -> now.chain(found -> {
            ConversationView view = view(found);
            return live.publishInTransaction(tx, new ConversationChanged(view.shared())).map(changedHere -> new Changed(view,
                    CompletableFuture.allOf(removedHere.toCompletableFuture(), changedHere.toCompletableFuture())));
        }));
    }

    /** After a committed change of members: who shares a conversation with them may differ (presence). */
    private void contactsChanged(Changed changed) {
        if (changed.delivered() != null && changed.view() != null) {
            live.publish(new ContactsChanged(changed.view().memberIds().stream().mapToLong(Long::longValue).toArray()));
        }
    }

    private static Uni<Changed> deliveredHere(Changed changed) {
        return changed.delivered() == null ? Uni.createFrom().item(changed)
                : Uni.createFrom().completionStage(changed.delivered()).replaceWith(changed);
    }

    /** Whether user-service knows every one of the ids (asked a few at a time); ids below 1 exist nowhere. */
    private Uni<Boolean> allExist(Set<Long> ids) {
        if (ids.stream().anyMatch(id -> id <= 0)) {
            return Uni.createFrom().item(false);
        }
        return Multi.createFrom().iterable(ids)
                .onItem().transformToUni(users::exists).merge(USER_LOOKUPS_AT_ONCE)
                .collect().asList()
                .map(answers -> answers.stream().allMatch(Boolean::booleanValue));
    }

    /** Titles: 1..100 characters (code points, as PostgreSQL counts), not only whitespace. */
    private static String titleError(String title) {
        if (title == null || title.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c)
                || Character.isISOControl(c))) {
            return ValidationMessages.BLANK;
        }
        if (title.codePointCount(0, title.length()) > Conversation.MAX_TITLE_LENGTH) {
            return ValidationMessages.tooLong(Conversation.MAX_TITLE_LENGTH);
        }
        if (title.codePoints().anyMatch(c -> c == 0 || Character.getType(c) == Character.SURROGATE)) {
            return ValidationMessages.INVALID_FORMAT;
        }
        return null;
    }

    /** A long unread range shown to a member: the conversation gets tallies, so the next count is short. */
    private void noteUnread(MemberConversation found) {
        if (found.readState() != null) {
            tallies.shown(found.conversation().id(), found.readState().unreadCount());
        }
    }

    private static ConversationView view(MemberConversation found) {
        return found == null ? null : ConversationView.of(found.conversation(), found.lastMessage(), found.readState());
    }

    private static boolean isForeignKeyViolation(Throwable failure) {
        return failure instanceof PgException pg && FOREIGN_KEY_VIOLATION.equals(pg.getSqlState());
    }

    /** A membership change's work inside the transaction, once the caller is known to be a member. */
    @FunctionalInterface
    private interface MembershipChange {
        Uni<Changed> apply(SqlConnection transaction, MembershipState state);
    }

    /** The conversation after a change (null if nothing changed), and when this replica's sockets have its events. */
    private record Changed(ConversationView view, CompletionStage<Void> delivered) {
    }
}
