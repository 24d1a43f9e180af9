package io.companychat.user.rest;

import java.util.OptionalLong;
import java.util.regex.Pattern;

/** Ids in paths and token subjects: positive integers (API.md); anything else matches no user. */
final class Ids {

    private static final Pattern POSITIVE = Pattern.compile("[1-9]\\d{0,17}");

    private Ids() {
    }

    static OptionalLong parse(String text) {
        return text != null && POSITIVE.matcher(text).matches() ? OptionalLong.of(Long.parseLong(text)) : OptionalLong.empty();
    }
}
