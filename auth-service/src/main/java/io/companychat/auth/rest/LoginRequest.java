package io.companychat.auth.rest;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import io.companychat.common.error.ValidationMessages;

/** {@code {"creds": {"email": ..., "password": ...}}}, the original's login body. */
public record LoginRequest(@NotNull(message = ValidationMessages.BLANK) @Valid Creds creds) {

    /**
     * The same bounds as user-service's credential check, so that what passes here is a question user-service
     * answers with yes or no. The email is also stored with failed logins (PostgreSQL text takes no NUL).
     */
    public record Creds(
            @NotBlank(message = ValidationMessages.BLANK) @Size(max = 255, message = ValidationMessages.TOO_LONG)
            @Pattern(regexp = "[^\\x00]*", message = ValidationMessages.INVALID_FORMAT) String email,
            @NotBlank(message = ValidationMessages.BLANK) @Size(max = 255, message = ValidationMessages.TOO_LONG) String password) {

        @Override
        public String toString() {
            return "Creds[email=" + email + "]";
        }
    }
}
