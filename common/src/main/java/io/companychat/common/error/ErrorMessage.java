package io.companychat.common.error;

/** The body of every non-validation error: {@code {"message": "..."}} (API.md, Conventions). */
public record ErrorMessage(String message) {
}
