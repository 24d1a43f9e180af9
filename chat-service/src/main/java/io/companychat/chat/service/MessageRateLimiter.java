package io.companychat.chat.service;

import jakarta.inject.Singleton;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.metrics.ChatMetrics;
import io.vertx.core.Vertx;

/**
 * How fast one user may post messages, over REST and the socket together: {@code chat.messages.rate} per second
 * ({@code CHAT_MESSAGE_RATE}, 0 = no limit), with bursts of up to three times that (see {@link RateLimiter}). The
 * socket closes a flooding user's connections (1008) rather than answering each frame, until the refusals have
 * drained.
 */
@Singleton
public class MessageRateLimiter extends RateLimiter {

    /** What a refused sender is told (REST {@code {"message"}}, socket error {@code reason}). */
    static final String REASON = "rate limited: too many messages, slow down";

    public MessageRateLimiter(ChatConfig config, Vertx vertx, ChatMetrics metrics) {
        super(config.messages().rate(), REASON, vertx, metrics.rateLimitCounter("messages"));
    }
}
