package io.companychat.user.config;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** user-service settings under {@code chat.*}. */
@ConfigMapping(prefix = "chat")
public interface UserConfig {

    Password password();

    Outbox outbox();

    DevMailPage devMailPage();

    interface Password {
        /** bcrypt cost (log2 of the rounds); 10 costs about 55 ms per hash on this project's machines. */
        @WithDefault("10")
        int bcryptCost();
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
