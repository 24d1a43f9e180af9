package io.companychat.user.api;

import static io.companychat.common.error.ValidationMessages.BLANK;
import static io.companychat.common.error.ValidationMessages.INVALID_FORMAT;
import static io.companychat.common.error.ValidationMessages.TOO_LONG;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/**
 * The fields of a registration. Values are trimmed on arrival, so that the rules (and the
 * database) see what is stored; a value that trims to nothing counts as missing. Any other
 * field of the body, {@code password} included, is ignored.
 */
public record NewUser(
        @NotBlank(message = BLANK) @Size(max = MAX_LENGTH, message = TOO_LONG)
        @Pattern(regexp = NO_NUL, message = INVALID_FORMAT) String name,

        @NotBlank(message = BLANK) @Size(max = MAX_LENGTH, message = TOO_LONG)
        @Pattern(regexp = NO_NUL, message = INVALID_FORMAT) String subname,

        @NotBlank(message = BLANK) @Size(max = MAX_LENGTH, message = TOO_LONG)
        @Pattern(regexp = EMAIL, message = INVALID_FORMAT) @MailAddress(message = INVALID_FORMAT) String email,

        @NotBlank(message = BLANK) @Size(max = MAX_LENGTH, message = TOO_LONG)
        @Pattern(regexp = NO_NUL, message = INVALID_FORMAT) String job) {

    /** The column width of {@code users}. */
    public static final int MAX_LENGTH = 255;
    /** The original's rule, matched against the whole value (no whitespace anywhere) and without NUL, which PostgreSQL refuses. */
    static final String EMAIL = "[^\\s\\x00]+@[^\\s\\x00]+\\.[^\\s\\x00]+";
    static final String NO_NUL = "[^\\x00]*";

    public NewUser {
        name = trimmed(name);
        subname = trimmed(subname);
        email = trimmed(email);
        job = trimmed(job);
    }

    private static String trimmed(String value) {
        if (value == null) {
            return null;
        }
        String stripped = value.strip();
        return stripped.isEmpty() ? null : stripped;
    }
}
