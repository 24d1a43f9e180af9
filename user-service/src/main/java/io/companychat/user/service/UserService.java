package io.companychat.user.service;

import static io.companychat.common.error.ValidationMessages.INVALID;
import static io.companychat.common.error.ValidationMessages.TAKEN;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.common.error.FieldValidationException;
import io.companychat.user.User;
import io.companychat.user.api.NewUser;
import io.companychat.user.api.PageRequest;
import io.companychat.user.api.PasswordChangeRequest;
import io.companychat.user.api.UserPage;
import io.companychat.user.api.UserView;
import io.companychat.user.config.UserConfig;
import io.companychat.user.repository.MailOutboxRepository;
import io.companychat.user.repository.RateLimitRepository.Reservation;
import io.companychat.user.repository.UserRepository;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;
import io.vertx.pgclient.PgException;

@ApplicationScoped
public class UserService {

    /** PostgreSQL's unique_violation. */
    static final String UNIQUE_VIOLATION = "23505";

    private final UserRepository users;
    private final MailOutboxRepository outbox;
    private final PasswordService passwords;
    private final RateLimitService limits;
    /** Lower-case; empty: every domain may register. */
    private final Set<String> allowedDomains;
    private final Timer hashTimer;
    private final Timer storeTimer;

    public UserService(UserRepository users, MailOutboxRepository outbox, PasswordService passwords, RateLimitService limits,
            UserConfig config, MeterRegistry registry) {
        this.users = users;
        this.outbox = outbox;
        this.passwords = passwords;
        this.limits = limits;
        this.allowedDomains = config.registration().domains().orElse(List.of()).stream()
                .map(domain -> domain.trim().toLowerCase(Locale.ROOT)).filter(domain -> !domain.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
        this.hashTimer = Timer.builder("users.registration.hash")
                .description("bcrypt hashing of the generated password of a registration").register(registry);
        this.storeTimer = Timer.builder("users.registration.store")
                .description("the registration's transaction: email check, user and outbox mail inserts").register(registry);
    }

    /**
     * Registers a user with a generated password: the user and the welcome mail that carries the
     * password are stored in one transaction, so the mail cannot be lost; the outbox sender
     * delivers it. Cheapest refusals first: a domain that may not register (422), the client
     * address's registrations for the hour (429, counted for every replica), an email already taken
     * (422, checked before any bcrypt work), a full bcrypt queue (503, and the attempt is not counted).
     * The password is hashed before the transaction, so no connection waits on bcrypt.
     */
    public Uni<UserView> register(NewUser fields, String clientAddress) {
        if (!domainMayRegister(fields.email())) {
            return Uni.createFrom().failure(FieldValidationException.of("email", INVALID));
        }
        return limits.reserveRegistration(clientAddress)
                .chain(reservation -> users.emailTaken(fields.email()).chain(taken -> {
                    if (taken) {
                        return Uni.createFrom().<UserView> failure(FieldValidationException.of("email", TAKEN));
                    }
                    return hashAndStore(fields, reservation);
                }))
                .onFailure(UserService::isEmailUniqueViolation)
                .transform(e -> FieldValidationException.of("email", TAKEN))
                .invoke(user -> Log.infof("Registered user %d", user.id()));
    }

    private Uni<UserView> hashAndStore(NewUser fields, Reservation reservation) {
        String password = passwords.generate();
        return timed(hashTimer, passwords.hashForRegistration(password))
                // Only a refusal (503, too many waiting) fails here: the client will retry, so it does not count.
                .onFailure().call(() -> limits.release(reservation))
                .chain(hash -> timed(storeTimer, Panache.withTransaction(() -> insert(fields, hash, password))));
    }

    private boolean domainMayRegister(String email) {
        if (allowedDomains.isEmpty()) {
            return true;
        }
        String domain = email.substring(email.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
        return allowedDomains.contains(domain);
    }

    private Uni<UserView> insert(NewUser fields, String passwordHash, String password) {
        return users.emailTaken(fields.email()).chain(taken -> {
            if (taken) {
                return Uni.createFrom().failure(FieldValidationException.of("email", TAKEN));
            }
            Instant now = now();
            User user = new User();
            user.name = fields.name();
            user.subname = fields.subname();
            user.email = fields.email();
            user.job = fields.job();
            user.passwordHash = passwordHash;
            user.insertedAt = now;
            user.updatedAt = now;
            return users.persist(user)
                    .chain(saved -> outbox.persist(WelcomeMail.to(saved.email, password, now)))
                    .replaceWith(() -> UserView.of(user));
        });
    }

    public Uni<UserPage> list(PageRequest page) {
        return users.listAfter(page.afterId(), page.limit() + 1).map(found -> {
            boolean more = found.size() > page.limit();
            List<User> shown = more ? found.subList(0, page.limit()) : found;
            String next = more ? PageRequest.cursorAfter(shown.get(shown.size() - 1).id) : null;
            return new UserPage(shown.stream().map(UserView::of).toList(), next);
        });
    }

    /** The user, or null when there is none with that id. */
    public Uni<UserView> find(long id) {
        return users.findById(id).map(user -> user == null ? null : UserView.of(user));
    }

    /** The user whose email and password these are, or null: the same answer, in the same time, for both failures. */
    public Uni<UserView> checkCredentials(String email, String password) {
        return users.findByEmail(email).chain(user -> passwords.matches(password, user == null ? null : user.passwordHash)
                .map(matches -> matches ? UserView.of(user) : null));
    }

    /**
     * Changes the password of the user after checking the current one. Returns false when the
     * current password is wrong or the user is gone. Each attempt counts as a wrong password until it
     * proves right, and too many wrong ones in the window refuse every attempt (429) until the window
     * ends, so that a stolen token cannot be used to guess the password. The caller's other tokens
     * stay valid (API.md).
     */
    public Uni<Boolean> changePassword(long userId, PasswordChangeRequest change) {
        return limits.reservePasswordAttempt(userId)
                .chain(() -> users.findById(userId))
                .chain(user -> passwords.matches(change.currentPassword(), user == null ? null : user.passwordHash))
                .chain(matches -> {
                    if (!matches) {
                        Log.infof("User %d gave a wrong current password", userId);
                        return Uni.createFrom().item(false);
                    }
                    return limits.passwordAccepted(userId)
                            .chain(() -> passwords.hash(change.newPassword()))
                            .chain(hash -> Panache.withTransaction(() -> users.updatePasswordHash(userId, hash, now())))
                            .map(updated -> updated == 1)
                            .invoke(updated -> Log.infof("User %d changed their password", userId));
                });
    }

    /** The unique index on lower(email) fired: a registration with the same email won the race. */
    static boolean isEmailUniqueViolation(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())) {
                return pg.getConstraint() == null || UserRepository.EMAIL_UNIQUE_INDEX.equals(pg.getConstraint());
            }
            if (t instanceof org.hibernate.exception.ConstraintViolationException cv
                    && UserRepository.EMAIL_UNIQUE_INDEX.equals(cv.getConstraintName())) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** Microseconds, as PostgreSQL keeps them, so what is returned equals what is stored. */
    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }

    private static <T> Uni<T> timed(Timer timer, Uni<T> work) {
        return Uni.createFrom().deferred(() -> {
            long start = System.nanoTime();
            return work.onTermination().invoke(() -> timer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
        });
    }
}
