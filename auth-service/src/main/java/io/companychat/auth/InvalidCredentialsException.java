package io.companychat.auth;

/** user-service did not accept the email and password: 401, the same answer for an unknown email and a wrong password. */
public class InvalidCredentialsException extends RuntimeException {

    public static final String MESSAGE = "invalid email or password";

    public InvalidCredentialsException() {
        super(MESSAGE, null, false, false);
    }
}
