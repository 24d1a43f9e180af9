package io.companychat.user.api;

import static io.companychat.common.error.ValidationMessages.BLANK;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/** {@code POST /api/users}: {@code {"user": {...}}}, as the original took it. */
public record RegistrationRequest(@Valid @NotNull(message = BLANK) NewUser user) {
}
