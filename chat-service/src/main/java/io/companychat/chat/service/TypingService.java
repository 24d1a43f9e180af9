package io.companychat.chat.service;

import jakarta.enterprise.context.ApplicationScoped;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.live.LiveEvent.Typing;
import io.companychat.chat.live.MemberDirectory;
import io.companychat.chat.socket.LiveSockets;
import io.companychat.common.error.ApiException;
import io.smallrye.mutiny.Uni;

/**
 * The socket's {@code typing}: forwarded to the other members' connections at most once per user
 * and conversation every {@code chat.signals.typing-interval} (2 s), never stored, never replayed.
 * Membership comes from {@link MemberDirectory} and the throttle is in memory, so a typing event
 * costs no database round trip. Per replica: a user typing from devices on two replicas may be
 * forwarded once from each within the interval (see the README, "Read state and typing").
 */
@ApplicationScoped
public class TypingService {

    /** The most users × conversations whose last forward is remembered; beyond, the oldest are forgotten early. */
    static final long MAX_THROTTLED = 200_000;

    private final MemberDirectory members;
    private final LiveSockets live;
    private final SignalRateLimiter rateLimiter;
    /** (user, conversation) forwarded within the interval; an entry expires when the interval has passed. */
    private final Cache<Key, Boolean> forwarded;

    public TypingService(MemberDirectory members, LiveSockets live, SignalRateLimiter rateLimiter, ChatConfig config) {
        this.members = members;
        this.live = live;
        this.rateLimiter = rateLimiter;
        // Maintenance (expiry, eviction) on the calling event loop, amortized over the writes: on Caffeine's default
        // executor, the common pool, every few forwarded typings woke a pool thread (~6 % of the service's CPU in the
        // signals benchmark, see the README, "Benchmark: read state and typing").
        this.forwarded = Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumSize(MAX_THROTTLED)
                .expireAfterWrite(config.signals().typingInterval())
                .build();
    }

    /** The caller is typing in the conversation; 404 unless they are a member. */
    public Uni<Void> typing(long callerId, long conversationId) {
        rateLimiter.acquire(callerId);
        return members.membersOf(conversationId).map(memberIds -> {
            if (!contains(memberIds, callerId)) {
                throw ApiException.notFound();
            }
            if (forwarded.asMap().putIfAbsent(new Key(callerId, conversationId), Boolean.TRUE) == null) {
                live.publish(new Typing(conversationId, callerId, memberIds));
            }
            return null;
        });
    }

    private static boolean contains(long[] ids, long id) {
        for (long candidate : ids) {
            if (candidate == id) {
                return true;
            }
        }
        return false;
    }

    private record Key(long userId, long conversationId) {
    }
}
