package io.companychat.user.api;

import static io.companychat.common.error.ValidationMessages.BLANK;
import static io.companychat.common.error.ValidationMessages.INVALID_FORMAT;
import static io.companychat.common.error.ValidationMessages.TOO_LONG;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

/** {@code POST /internal/credentials}: auth-service asks whether an email and password belong together. */
public record CredentialsRequest(
        @NotNull(message = BLANK) @Size(max = 255, message = TOO_LONG)
        @Pattern(regexp = "[^\\x00]*", message = INVALID_FORMAT) String email,

        @NotNull(message = BLANK) @Size(max = PasswordChangeRequest.MAX_LENGTH, message = TOO_LONG) String password) {

    /** Keeps the password out of logs and exception messages. */
    @Override
    public String toString() {
        return "CredentialsRequest[email=" + email + ", password=***]";
    }
}
