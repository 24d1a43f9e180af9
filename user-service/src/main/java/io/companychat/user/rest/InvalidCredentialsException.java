package io.companychat.user.rest;

/** Email and password do not belong together (or no such email): 401, the same answer for both. */
class InvalidCredentialsException extends RuntimeException {

    InvalidCredentialsException() {
        super("invalid email or password", null, false, false);
    }
}
