package io.companychat.chat.service;

import jakarta.inject.Singleton;

import io.companychat.chat.config.ChatConfig;
import io.companychat.chat.metrics.ChatMetrics;
import io.vertx.core.Vertx;

/**
 * How many searches one user may run per second ({@code chat.search.rate}, {@code CHAT_SEARCH_RATE}, 0 = no limit),
 * with bursts of up to three times that (see {@link RateLimiter}): a search reads an index that a few broad queries
 * in a loop could keep busy for everyone.
 */
@Singleton
public class SearchRateLimiter extends RateLimiter {

    static final String REASON = "rate limited: too many searches, slow down";

    public SearchRateLimiter(ChatConfig config, Vertx vertx, ChatMetrics metrics) {
        super(config.search().rate(), REASON, vertx, metrics.rateLimitCounter("search"));
    }
}
