package io.companychat.chat.rest;

import io.companychat.common.api.Ids;
import io.companychat.common.error.ApiException;

/** Path and query parameters arrive as text and are checked here, so that no value can end in a 500. */
final class RequestParameters {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 100;

    private RequestParameters() {
    }

    /** Anything but a positive id names no conversation: the same 404 as an unknown one. */
    static long conversationId(String text) {
        return Ids.parse(text).orElseThrow(ApiException::notFound);
    }

    /** A user id in a path; anything but a positive id names nobody: 404. */
    static long userId(String text) {
        return Ids.parse(text).orElseThrow(ApiException::notFound);
    }

    static int limit(String text) {
        return limit(text, DEFAULT_LIMIT);
    }

    static int limit(String text, int defaultLimit) {
        if (text == null) {
            return defaultLimit;
        }
        long limit = Ids.parse(text).orElse(0);
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ApiException.badRequest("limit must be an integer from 1 to " + MAX_LIMIT);
        }
        return (int) limit;
    }

    /** A message id in a path; anything but a positive id names no message: 404. */
    static long messageId(String text) {
        return Ids.parse(text).orElseThrow(ApiException::notFound);
    }

    /** {@code ?conversation_id=} of a search: absent, or a positive id (else 400). */
    static Long conversationFilter(String text) {
        if (text == null) {
            return null;
        }
        return Ids.parse(text).orElseThrow(() -> ApiException.badRequest("conversation_id must be a conversation id"));
    }

    /** The {@code next} of the previous page, which is a message id. */
    static Long before(String text) {
        if (text == null) {
            return null;
        }
        return Ids.parse(text).orElseThrow(
                () -> ApiException.badRequest("before must be the next cursor of a previous page or a message id"));
    }
}
