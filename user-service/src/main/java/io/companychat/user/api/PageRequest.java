package io.companychat.user.api;

import java.util.regex.Pattern;

import io.companychat.common.error.ApiException;

/**
 * {@code ?limit=&after=} of the user directory, checked here rather than by JAX-RS so that a
 * bad value is a 400 with a reason instead of a 404.
 */
public record PageRequest(int limit, long afterId) {

    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 100;
    static final String LIMIT_RULE = "limit must be an integer from 1 to " + MAX_LIMIT;
    static final String AFTER_RULE = "after must be the next cursor of a previous page";

    private static final Pattern DIGITS = Pattern.compile("\\d{1,18}");

    public static PageRequest parse(String limit, String after) {
        int size = DEFAULT_LIMIT;
        if (limit != null) {
            if (!DIGITS.matcher(limit).matches()) {
                throw ApiException.badRequest(LIMIT_RULE);
            }
            long parsed = Long.parseLong(limit);
            if (parsed < 1 || parsed > MAX_LIMIT) {
                throw ApiException.badRequest(LIMIT_RULE);
            }
            size = (int) parsed;
        }
        long afterId = 0;
        if (after != null) {
            if (!DIGITS.matcher(after).matches()) {
                throw ApiException.badRequest(AFTER_RULE);
            }
            afterId = Long.parseLong(after);
        }
        return new PageRequest(size, afterId);
    }

    /** The cursor that continues after the user with this id. */
    public static String cursorAfter(long id) {
        return Long.toString(id);
    }
}
