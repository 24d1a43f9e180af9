package io.companychat.auth.key;

/** The configured keys are missing or unusable: auth-service refuses to start and says why. */
public class KeyConfigurationException extends RuntimeException {

    public KeyConfigurationException(String message) {
        super(message);
    }

    public KeyConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
