package io.companychat.auth.rest;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;

import io.companychat.common.error.ValidationMessages;

/** {@code {"creds": {"email": ..., "password": ...}}}, the original's login body. */
public record LoginRequest(@NotNull(message = ValidationMessages.BLANK) @Valid Creds creds) {

    /** The email is stored with failed logins (255 characters at most); the password only travels to user-service. */
    public record Creds(
            @NotBlank(message = ValidationMessages.BLANK) @Size(max = 255, message = ValidationMessages.TOO_LONG) String email,
            @NotBlank(message = ValidationMessages.BLANK) @Size(max = 1024, message = ValidationMessages.TOO_LONG) String password) {

        @Override
        public String toString() {
            return "Creds[email=" + email + "]";
        }
    }
}
