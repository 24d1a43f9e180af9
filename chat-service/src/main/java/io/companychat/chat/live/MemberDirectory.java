package io.companychat.chat.live;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.ConversationChanged;
import io.companychat.chat.live.LiveEvent.ConversationRemoved;
import io.companychat.chat.repository.ReadRepository;
import io.smallrye.mutiny.Uni;

/**
 * The members of conversations, in memory, for the socket's {@code typing}: API.md wants typing
 * cheap, so a member typing costs no database round trip once their conversation is known here.
 *
 * <p>Kept current by the membership events every replica receives, in commit order (see
 * {@link MessageBus#publishInTransaction}): a {@code conversation} event replaces the members it
 * names, a removal forgets the conversation. A read from the database that was under way while an
 * event came in may hold the members as they were before it, so it is kept only if no membership
 * event (of any conversation) arrived meanwhile. When the bus may have missed events, everything is
 * forgotten; entries also expire after {@link #EXPIRY_SECONDS}, a last bound on staleness.
 */
@ApplicationScoped
public class MemberDirectory {

    static final long EXPIRY_SECONDS = 60;

    private final ReadRepository reads;
    private final Cache<Long, long[]> members;
    /** Counts membership events and gaps; a database read is cached only if none came while it ran. */
    private final AtomicLong changes = new AtomicLong();

    public MemberDirectory(ReadRepository reads, ChatConfig config) {
        this.reads = reads;
        this.members = Caffeine.newBuilder()
                .executor(Runnable::run) // maintenance on the caller's thread, as TypingService's throttle
                .maximumSize(config.signals().memberCacheSize())
                .expireAfterWrite(EXPIRY_SECONDS, TimeUnit.SECONDS)
                .build();
    }

    /** The conversation's members now, ascending; empty for no such conversation. */
    public Uni<long[]> membersOf(long conversationId) {
        long[] known = members.getIfPresent(conversationId);
        if (known != null) {
            return Uni.createFrom().item(known);
        }
        long changesBefore = changes.get();
        return reads.members(conversationId).invoke(found -> {
            if (changes.get() == changesBefore) {
                members.put(conversationId, found);
            }
        });
    }

    /** A membership event, as every replica receives it. */
    public void changed(LiveEvent event) {
        if (event instanceof ConversationChanged changed) {
            changes.incrementAndGet();
            long conversationId = changed.conversation().id();
            long[] now = changed.conversation().memberIds().stream().mapToLong(Long::longValue).toArray();
            members.asMap().computeIfPresent(conversationId, (id, before) -> now);
        } else if (event instanceof ConversationRemoved removed) {
            changes.incrementAndGet();
            members.invalidate(removed.conversationId());
        }
    }

    /** Events may have been missed: nothing known is trusted any more. */
    public void forgetAll() {
        changes.incrementAndGet();
        members.invalidateAll();
    }
}
