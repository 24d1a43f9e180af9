package io.companychat.chat.rest;

import jakarta.ws.rs.NotFoundException;

import io.companychat.chat.service.RequestRejectedException;

/** Path and query parameters arrive as text and are checked here, so that no value can end in a 500. */
final class RequestParameters {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 100;

    private RequestParameters() {
    }

    /** Anything but a positive id names no conversation: the same 404 as an unknown one. */
    static long conversationId(String text) {
        Long id = positiveLong(text);
        if (id == null) {
            throw new NotFoundException();
        }
        return id;
    }

    static int limit(String text) {
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        Long limit = positiveLong(text);
        if (limit == null || limit > MAX_LIMIT) {
            throw RequestRejectedException.badRequest("limit must be an integer from 1 to " + MAX_LIMIT);
        }
        return limit.intValue();
    }

    /** The {@code next} of the previous page, which is a message id. */
    static Long before(String text) {
        if (text == null) {
            return null;
        }
        Long before = positiveLong(text);
        if (before == null) {
            throw RequestRejectedException.badRequest("before must be the next cursor of a previous page or a message id");
        }
        return before;
    }

    private static Long positiveLong(String text) {
        if (text == null || text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        try {
            long value = Long.parseLong(text);
            return value > 0 ? value : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
