package io.companychat.auth.service;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.auth.config.AuthConfig;
import io.companychat.auth.repository.LoginFailureRepository;
import io.companychat.common.error.ApiException;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;

/**
 * Brute-force limits: at most N failed logins per email (case-insensitive) and M per client address within a
 * sliding window, counted in PostgreSQL so that every replica sees the same numbers.
 * <p>
 * Checked before the password, so a blocked email costs user-service nothing and even the right password is
 * refused; checked again, atomically with forgiving the failures, when the password turns out right, so that a
 * right password never passes once the email has N failures, even ones recorded while it was being checked.
 * Failures are recorded once user-service has said no: attempts that run in parallel may all be checked before
 * the first failure is recorded (at most the attacker's parallelism beyond N, once per window); counting an
 * attempt before its answer would instead refuse parallel logins with the right password.
 */
@ApplicationScoped
public class LoginLimitService {

    private final LoginFailureRepository failures;
    private final AuthConfig.LoginLimits limits;

    public LoginLimitService(LoginFailureRepository failures, AuthConfig config) {
        this.failures = failures;
        this.limits = config.loginLimits();
    }

    /** Fails with a 429 {@link ApiException} if the email or the address has too many recent failures. */
    public Uni<Void> requireNotBlocked(String email, String clientAddress) {
        return failures.blocked(email, clientAddress, limits.window(), limits.maxFailuresPerEmail(), limits.maxFailuresPerAddress())
                .map(block -> {
                    if (block.blocked()) {
                        Log.infof("Login refused: too many failed logins for the %s (client %s), retry after %d s",
                                block.emailRetryAfter() != null ? "email" : "client address", clientAddress,
                                block.retryAfterSeconds());
                        throw tooManyFailures(block.retryAfterSeconds());
                    }
                    return null;
                });
    }

    public Uni<Void> failed(String email, String clientAddress) {
        return failures.record(email, clientAddress);
    }

    /** The password was right: that email's failures are forgiven, unless they have reached the limit meanwhile. */
    public Uni<Void> succeeded(String email) {
        return failures.forgiveUnlessBlocked(email, limits.window(), limits.maxFailuresPerEmail())
                .map(retryAfter -> {
                    if (retryAfter != null) {
                        Log.infof("Login refused: the email reached its failed-login limit during the check, retry after %d s",
                                retryAfter);
                        throw tooManyFailures(retryAfter);
                    }
                    return null;
                });
    }

    public Uni<Integer> deleteOutsideWindow() {
        return failures.deleteOlderThan(limits.window());
    }

    private static ApiException tooManyFailures(long retryAfterSeconds) {
        return ApiException.tooManyRequests("too many failed logins, try again later", retryAfterSeconds);
    }
}
