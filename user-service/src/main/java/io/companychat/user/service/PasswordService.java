package io.companychat.user.service;

import java.security.SecureRandom;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.user.config.UserConfig;
import io.companychat.user.service.HashingPool.Priority;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.Uni;

/**
 * Generates, hashes and checks passwords. bcrypt is slow on purpose, so it always runs on the
 * {@link HashingPool}'s threads, never on the event loop, with checks (logins, password changes)
 * ahead of registrations; the work resumes on the caller's Vert.x context.
 */
@Startup
@ApplicationScoped
public class PasswordService {

    /** Letters and digits without the look-alikes 0/O, 1/l/I: about 5.8 bits per character. */
    static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    /** 20 characters: about 116 bits of entropy. */
    public static final int GENERATED_LENGTH = 20;

    private final SecureRandom random = new SecureRandom();
    private final HashingPool pool;
    private final int cost;
    /**
     * Checked when no user has the email, so that an unknown email costs the same bcrypt
     * verification as a wrong password. Made at start (not per request), with the configured cost.
     */
    private final String unknownUserHash;

    public PasswordService(HashingPool pool, UserConfig config) {
        this.pool = pool;
        this.cost = config.password().bcryptCost();
        this.unknownUserHash = BcryptUtil.bcryptHash(generate(), cost);
    }

    /** A fresh random password from a CSPRNG. */
    public String generate() {
        StringBuilder password = new StringBuilder(GENERATED_LENGTH);
        for (int i = 0; i < GENERATED_LENGTH; i++) {
            password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return password.toString();
    }

    /** The hash of a user's new password (a password change): ahead of registrations. */
    public Uni<String> hash(String password) {
        return pool.run(Priority.CHECK, () -> BcryptUtil.bcryptHash(password, cost));
    }

    /** The hash of a new user's generated password: after every check, and refused (503) when too many wait. */
    public Uni<String> hashForRegistration(String password) {
        return pool.run(Priority.REGISTRATION, () -> BcryptUtil.bcryptHash(password, cost));
    }

    /**
     * Whether the password matches the hash. A null hash (no such user) is checked against a
     * dummy hash first, so both failures take the same time, and never matches.
     */
    public Uni<Boolean> matches(String password, String hashOrNull) {
        return pool.run(Priority.CHECK, () -> {
            boolean matches = BcryptUtil.matches(password, hashOrNull == null ? unknownUserHash : hashOrNull);
            return matches && hashOrNull != null;
        });
    }
}
