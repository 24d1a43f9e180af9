package io.companychat.common.api;

import java.util.OptionalLong;

/**
 * Ids are positive integers (API.md, Conventions). Path ids, cursors and token subjects arrive as text and are
 * read here, one way for every service, so that no spelling of a number ({@code 001}, {@code +1}, {@code 1.0},
 * 2^63) can end in a 500 or name a different row.
 */
public final class Ids {

    /** 18 digits always fit a long; a longer number names nothing that exists. */
    private static final int MAX_DIGITS = 18;

    private Ids() {
    }

    /** The id written as {@code [1-9][0-9]{0,17}}, or empty. */
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
        return OptionalLong.of(Long.parseLong(text));
    }
}
