package io.companychat.user.api;

import static io.companychat.common.error.ValidationMessages.BLANK;
import static io.companychat.common.error.ValidationMessages.TOO_LONG;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;

/** {@code PUT /api/users/me/password}. Passwords are taken exactly as sent, never trimmed. */
public record PasswordChangeRequest(
        @NotBlank(message = BLANK) @Size(max = MAX_LENGTH, message = TOO_LONG) String currentPassword,

        @NotBlank(message = BLANK)
        @Size(min = MIN_LENGTH, message = TOO_SHORT)
        @Size(max = MAX_LENGTH, message = TOO_LONG) String newPassword) {

    public static final int MIN_LENGTH = 12;
    public static final int MAX_LENGTH = 255;
    /** Ecto's wording for {@code validate_length(min: n)}, in the style of common's messages. */
    static final String TOO_SHORT = "should be at least {min} character(s)";

    /** Keeps the passwords out of logs and exception messages. */
    @Override
    public String toString() {
        return "PasswordChangeRequest[***]";
    }
}
