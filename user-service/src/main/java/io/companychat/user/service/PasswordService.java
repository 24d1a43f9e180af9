package io.companychat.user.service;

import java.security.SecureRandom;
import java.util.concurrent.Callable;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.user.config.UserConfig;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;

/**
 * Generates, hashes and checks passwords. bcrypt is slow on purpose, so it always runs on a
 * worker thread, never on the event loop; the work resumes on the caller's Vert.x context.
 */
@Startup
@ApplicationScoped
public class PasswordService {

    /** Letters and digits without the look-alikes 0/O, 1/l/I: about 5.8 bits per character. */
    static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    /** 20 characters: about 116 bits of entropy. */
    public static final int GENERATED_LENGTH = 20;

    private final SecureRandom random = new SecureRandom();
    private final Vertx vertx;
    private final int cost;
    /**
     * Checked when no user has the email, so that an unknown email costs the same bcrypt
     * verification as a wrong password. Made at start (not per request), with the configured cost.
     */
    private final String unknownUserHash;

    public PasswordService(Vertx vertx, UserConfig config) {
        this.vertx = vertx;
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

    public Uni<String> hash(String password) {
        return onWorker(() -> BcryptUtil.bcryptHash(password, cost));
    }

    /**
     * Whether the password matches the hash. A null hash (no such user) is checked against a
     * dummy hash first, so both failures take the same time, and never matches.
     */
    public Uni<Boolean> matches(String password, String hashOrNull) {
        return onWorker(() -> {
            boolean matches = BcryptUtil.matches(password, hashOrNull == null ? unknownUserHash : hashOrNull);
            return matches && hashOrNull != null;
        });
    }

    private <T> Uni<T> onWorker(Callable<T> work) {
        return vertx.executeBlocking(work, false);
    }
}
