package io.companychat.chat.service;

import jakarta.inject.Singleton;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.metrics.ChatMetrics;
import io.vertx.core.Vertx;

/**
 * How fast one user may move read markers and say they are typing, over REST and the socket together:
 * {@code chat.signals.rate} per second ({@code CHAT_SIGNAL_RATE}, 0 = no limit), with bursts of up to three times
 * that (see {@link RateLimiter}). Each {@code mark_read} is a database write and each forwarded {@code typing} a
 * push to every other member, so neither goes unmetered.
 */
@Singleton
public class SignalRateLimiter extends RateLimiter {

    static final String REASON = "rate limited: too many read markers or typing events, slow down";

    public SignalRateLimiter(ChatConfig config, Vertx vertx, ChatMetrics metrics) {
        super(config.signals().rate(), REASON, vertx, metrics.rateLimitCounter("signals"));
    }
}
