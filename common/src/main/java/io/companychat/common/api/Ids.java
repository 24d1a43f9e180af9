package io.companychat.common.api;

import java.util.OptionalLong;

/**
 * Ids are positive integers (API.md, Conventions). Path ids, cursors and token subjects arrive as text and are
 * read here, one way for every service, so that no spelling of a number ({@code 001}, {@code +1}, {@code 1.0},
 * 2^63) can end in a 500 or name a different row.
 */
public final class Ids {

    /** {@link Long#MAX_VALUE} has 19 digits; a longer number names nothing that exists. */
    private static final int MAX_DIGITS = 19;

    private Ids() {
    }

    /** The id written as {@code [1-9][0-9]*} up to {@link Long#MAX_VALUE}, or empty. */
    public static OptionalLong parse(String text) {
        if (text == null || text.isEmpty() || text.length() > MAX_DIGITS || text.charAt(0) == '0') {
            return OptionalLong.empty();
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return OptionalLong.empty();
            }
        }
        try {
            return OptionalLong.of(Long.parseLong(text));
        } catch (NumberFormatException beyondLong) {
            return OptionalLong.empty();
        }
    }
}
