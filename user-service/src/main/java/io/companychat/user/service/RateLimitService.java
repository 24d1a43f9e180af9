package io.companychat.user.service;

import java.time.Duration;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.common.error.ApiException;
import io.companychat.user.config.UserConfig;
import io.companychat.user.repository.RateLimitRepository;
import io.companychat.user.repository.RateLimitRepository.Reservation;
import io.quarkus.logging.Log;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;

/**
 * The limits of API.md that user-service enforces, counted in PostgreSQL so that every replica sees the same
 * numbers (a limit kept in each replica's memory would multiply by the number of replicas, and a restart would
 * forget it):
 * <ul>
 * <li>registrations per client address per hour ({@code chat.registration.limit});</li>
 * <li>wrong current passwords per user per 15 minutes ({@code chat.password-change.max-failures}).</li>
 * </ul>
 * An attempt takes its place <em>before</em> the work it stands for (atomically with the count, under a lock per
 * counter), so parallel requests cannot all slip through before the first is counted. A refusal stores nothing.
 */
@ApplicationScoped
public class RateLimitService {

    static final String REGISTRATION = "registration:";
    static final String PASSWORD = "password:";

    private final RateLimitRepository events;
    private final UserConfig.Registration registration;
    private final UserConfig.PasswordChange passwordChange;

    public RateLimitService(RateLimitRepository events, UserConfig config) {
        this.events = events;
        this.registration = config.registration();
        this.passwordChange = config.passwordChange();
    }

    /**
     * Counts a registration for the client address, or fails with 429 when the address has used up its
     * registrations for the window. Null when the limit is off.
     */
    public Uni<Reservation> reserveRegistration(String clientAddress) {
        if (registration.limit() <= 0) {
            return Uni.createFrom().nullItem();
        }
        return reserve(REGISTRATION + clientAddress, registration.window(), registration.limit(),
                "too many registrations from this address, try again later");
    }

    /**
     * Counts an attempt to change the user's password as a failure until it proves right
     * ({@link #passwordAccepted(long)}), or fails with 429 when the user has too many failures in the window:
     * then even the right password is refused until the window ends. Null when the limit is off.
     */
    public Uni<Reservation> reservePasswordAttempt(long userId) {
        if (passwordChange.maxFailures() <= 0) {
            return Uni.createFrom().nullItem();
        }
        return reserve(PASSWORD + userId, passwordChange.window(), passwordChange.maxFailures(),
                "too many wrong passwords, try again later");
    }

    /** The right current password: the user's failures are forgiven. */
    public Uni<Void> passwordAccepted(long userId) {
        return passwordChange.maxFailures() <= 0 ? Uni.createFrom().voidItem() : events.clear(PASSWORD + userId);
    }

    /** The attempt a reservation stood for did not happen (e.g. refused as busy): it does not count. */
    public Uni<Void> release(Reservation reservation) {
        return reservation == null ? Uni.createFrom().voidItem() : events.release(reservation.id());
    }

    @Scheduled(identity = "rate-limit-cleanup", every = "1m", delayed = "1m",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> deleteOutsideWindows() {
        Duration longest = registration.window().compareTo(passwordChange.window()) > 0
                ? registration.window() : passwordChange.window();
        return events.deleteOlderThan(longest)
                .onFailure().invoke(e -> Log.warnf("Rate-limit cleanup failed, will retry: %s", e.toString()))
                .onFailure().recoverWithNull()
                .replaceWithVoid();
    }

    private Uni<Reservation> reserve(String bucket, Duration window, int limit, String refusal) {
        return events.reserve(bucket, window, limit).map(reservation -> {
            if (reservation.refused()) {
                Log.infof("Refused (%s): retry after %d s", bucket.substring(0, bucket.indexOf(':')), reservation.retryAfterSeconds());
                throw ApiException.tooManyRequests(refusal, reservation.retryAfterSeconds());
            }
            return reservation;
        });
    }
}
