package io.companychat.user.rest;

/** The current password given for a change is wrong: 401 {@code {"message": "invalid password"}}. */
class InvalidPasswordException extends RuntimeException {

    InvalidPasswordException() {
        super("invalid password", null, false, false);
    }
}
