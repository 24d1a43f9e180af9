package io.companychat.auth.service;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.auth.TooManyFailedLoginsException;
import io.companychat.auth.config.AuthConfig;
import io.companychat.auth.repository.LoginFailureRepository;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;

/**
 * Brute-force limits: at most N failed logins per email (case-insensitive) and M per client address within a
 * sliding window, counted in PostgreSQL so that every replica sees the same numbers.
 * <p>
 * An attempt is counted as a failure <em>before</em> the password is checked, and forgiven afterwards if it
 * turns out right (or could not be checked). So the limits hold exactly even for many concurrent attempts, and
 * once an email has N failures in the window nothing is checked for it, not even the right password.
 */
@ApplicationScoped
public class LoginLimitService {

    private final LoginFailureRepository failures;
    private final AuthConfig.LoginLimits limits;

    public LoginLimitService(LoginFailureRepository failures, AuthConfig config) {
        this.failures = failures;
        this.limits = config.loginLimits();
    }

    /** Records the attempt as a failure for now and gives its id, or fails with {@link TooManyFailedLoginsException}. */
    public Uni<Long> beginAttempt(String email, String clientAddress) {
        return failures.reserve(email, clientAddress, limits.window(), limits.maxFailuresPerEmail(), limits.maxFailuresPerAddress())
                .map(reservation -> {
                    if (!reservation.granted()) {
                        Log.infof("Login refused: too many failed logins for the %s (client %s), retry after %d s",
                                reservation.emailRetryAfter() != null ? "email" : "client address", clientAddress,
                                reservation.retryAfterSeconds());
                        throw new TooManyFailedLoginsException(reservation.retryAfterSeconds());
                    }
                    return reservation.attemptId();
                });
    }

    /** The password was right: that email's failures are forgiven, this attempt's included. */
    public Uni<Void> succeeded(String email) {
        return failures.deleteForEmail(email);
    }

    /** The password could not be checked: the attempt was no failure. */
    public Uni<Void> undecided(long attemptId) {
        return failures.delete(attemptId);
    }

    public Uni<Integer> deleteOutsideWindow() {
        return failures.deleteOlderThan(limits.window());
    }
}
