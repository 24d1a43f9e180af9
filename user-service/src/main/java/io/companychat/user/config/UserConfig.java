package io.companychat.user.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** user-service settings under {@code chat.*}. */
@ConfigMapping(prefix = "chat")
public interface UserConfig {

    Password password();

    Registration registration();

    PasswordChange passwordChange();

    Outbox outbox();

    DevMailPage devMailPage();

    interface Password {
        /** bcrypt cost (log2 of the rounds); 10 costs about 55 ms per hash on this project's machines. */
        @WithDefault("10")
        int bcryptCost();

        /** Threads that run bcrypt (and nothing else); default: one per available processor. */
        OptionalInt hashThreads();

        /**
         * Registrations that may wait for a bcrypt thread; one more is refused with 503 and Retry-After. Password
         * checks (logins, password changes) always go first, so a registration flood cannot slow logins down by more
         * than the one hash each thread is busy with.
         */
        @WithDefault("8")
        int maxWaitingRegistrations();

        /** Password checks (logins, password changes) that may wait for a bcrypt thread; one more gets 503. */
        @WithDefault("100")
        int maxWaitingChecks();
    }

    /** Who may register, and how often (API.md, Limits). */
    interface Registration {
        /** Registrations per client address per {@link #window()}, counted by all replicas together; 0: no limit. */
        @WithDefault("10")
        int limit();

        @WithDefault("1h")
        Duration window();

        /** Email domains that may register (exact, case-insensitive); absent: any domain. */
        Optional<List<String>> domains();
    }

    /** Guessing the current password with a stolen token (API.md, Limits). */
    interface PasswordChange {
        /** Wrong current passwords per user per {@link #window()}; then every try is refused until the window ends. 0: no limit. */
        @WithDefault("5")
        int maxFailures();

        @WithDefault("15m")
        Duration window();
    }

    /** The welcome-mail outbox sender. */
    interface Outbox {
        /** How often each replica looks for due mails. */
        @WithDefault("1s")
        Duration pollInterval();

        /** How many due mails one replica claims per poll. */
        @WithDefault("10")
        int batchSize();

        /**
         * How long a claimed mail stays invisible to the other replicas. It must outlast a send
         * ({@code quarkus.mailer.timeout}); past it, a mail whose sender died is claimed again.
         */
        @WithDefault("2m")
        Duration lease();

        /**
         * A send not answered within this counts as a failed attempt and is retried. The mail client can wait
         * forever on a connection the SMTP server accepted and dropped (SmtpOutageIT), and such a send holds every
         * later poll until it ends. A welcome mail takes well under a second on a healthy server; below {@link #lease()}.
         */
        @WithDefault("20s")
        Duration sendTimeout();

        /** Wait after the first failed attempt; doubled after each further failure, up to {@link #maxBackoff()}. */
        @WithDefault("1s")
        Duration initialBackoff();

        @WithDefault("5m")
        Duration maxBackoff();

        /** After this many failed attempts a mail is marked FAILED and left for an operator to re-queue. */
        @WithDefault("200")
        int maxAttempts();
    }

    /** The page that shows the mock mailer's mails (local runs only). */
    interface DevMailPage {
        @WithDefault("false")
        boolean enabled();
    }
}
