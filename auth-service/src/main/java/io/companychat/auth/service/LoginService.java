package io.companychat.auth.service;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.common.error.ApiException;
import io.companychat.auth.client.User;
import io.companychat.auth.client.UserClient;
import io.companychat.auth.service.TokenService.IssuedToken;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;

/**
 * A login: limits first (so a blocked email costs user-service nothing and even the right password is refused),
 * then the credentials by user-service, then the limits again as the failures are forgiven, then a token. The
 * attempts for one email take turns on this replica ({@link AttemptSequencer}). An unknown email and a wrong password take the very same
 * path here; user-service answers both alike, in the same time.
 * <p>
 * Each step is timed ({@code auth_login_step_seconds{step=...}} on the management port's /q/metrics) to show where a
 * login's time goes, and each login counted by its outcome ({@code auth_logins_total{outcome=...}}): {@code success},
 * {@code failure} (wrong credentials), {@code lockout} (refused by the brute-force limits), {@code error} (anything
 * else, such as user-service unreachable).
 */
@ApplicationScoped
public class LoginService {

    private final AttemptSequencer sequencer;
    private final LoginLimitService limits;
    private final UserClient users;
    private final TokenService tokens;
    private final Timer limitsTimer;
    private final Timer credentialsTimer;
    private final Timer failureTimer;
    private final Timer forgiveTimer;
    private final Timer signingTimer;
    private final Counter successes;
    private final Counter failures;
    private final Counter lockouts;
    private final Counter errors;

    public LoginService(AttemptSequencer sequencer, LoginLimitService limits, UserClient users, TokenService tokens,
            MeterRegistry registry) {
        this.sequencer = sequencer;
        this.limits = limits;
        this.users = users;
        this.tokens = tokens;
        this.limitsTimer = stepTimer(registry, "limits");
        this.credentialsTimer = stepTimer(registry, "credentials");
        this.failureTimer = stepTimer(registry, "failure");
        this.forgiveTimer = stepTimer(registry, "forgive");
        this.signingTimer = stepTimer(registry, "signing");
        this.successes = outcomeCounter(registry, "success");
        this.failures = outcomeCounter(registry, "failure");
        this.lockouts = outcomeCounter(registry, "lockout");
        this.errors = outcomeCounter(registry, "error");
    }

    public Uni<Session> login(String email, String password, String clientAddress) {
        return sequencer.inTurn(email, () -> check(email, password, clientAddress))
                .map(user -> new Session(user, signingTimer.record(() -> tokens.issue(user))))
                .onItemOrFailure().invoke((session, failure) -> outcome(failure).increment());
    }

    private Counter outcome(Throwable failure) {
        if (failure == null) {
            return successes;
        }
        if (isInvalidCredentials(failure)) {
            return failures;
        }
        return failure instanceof ApiException refusal && refusal.status() == 429 ? lockouts : errors;
    }

    private static Counter outcomeCounter(MeterRegistry registry, String outcome) {
        return Counter.builder("auth.logins").description("Logins by outcome").tag("outcome", outcome).register(registry);
    }

    private Uni<User> check(String email, String password, String clientAddress) {
        return timed(limitsTimer, () -> limits.requireNotBlocked(email, clientAddress))
                .flatMap(ignored -> timed(credentialsTimer, () -> users.verify(email, password)))
                .onFailure(LoginService::isInvalidCredentials).recoverWithUni(refusal -> {
                    Log.debugf("Login failed: invalid credentials (client %s)", clientAddress);
                    // A failure that cannot be counted fails closed: that error, not the 401, reaches the client.
                    return timed(failureTimer, () -> limits.failed(email, clientAddress))
                            .flatMap(counted -> Uni.createFrom().<User> failure(refusal));
                })
                .flatMap(user -> timed(forgiveTimer, () -> limits.succeeded(email)).replaceWith(user));
    }

    private static boolean isInvalidCredentials(Throwable failure) {
        return failure instanceof ApiException refusal && refusal.status() == 401;
    }

    private static <T> Uni<T> timed(Timer timer, Supplier<Uni<T>> step) {
        return Uni.createFrom().deferred(() -> {
            long start = System.nanoTime();
            return step.get().onTermination().invoke(() -> timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
        });
    }

    private static Timer stepTimer(MeterRegistry registry, String step) {
        return Timer.builder("auth.login.step").description("Time spent in one step of a login").tag("step", step)
                .register(registry);
    }

    /** A logged-in user and their new token. */
    public record Session(User user, IssuedToken token) {
    }
}
