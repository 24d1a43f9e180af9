package io.companychat.gateway.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 8, "faults, nothing lost": the mail server is unreachable for a while during registrations.
 * Registration still answers 201 at once, and once the server is back every welcome email is
 * delivered exactly once.
 */
@ExtendWith(SystemExtension.class)
class SmtpOutageIT {

    private static final int REGISTRATIONS = 6;
    /**
     * Each mail's first attempt must have failed by then. A send to a server that accepts and drops the connection
     * fails only at user-service's send timeout (20 s), and a mail registered while a poll's sends hang waits for
     * that poll: two timeouts and a few polls.
     */
    private static final Duration FAILURE_LIMIT = Duration.ofSeconds(50);
    /** A send begun just before the server's return may still hang for a send timeout, then back off. */
    private static final Duration DELIVERY_LIMIT = Duration.ofSeconds(45);
    private static final Duration PATIENCE = Duration.ofSeconds(15);

    private static RunningSystem system;

    @BeforeAll
    static void setUp(RunningSystem runningSystem) {
        system = runningSystem;
    }

    @Test
    void everyWelcomeEmailOfRegistrationsDuringAnSmtpOutageIsDeliveredExactlyOnceAfterItEnds() {
        String batch = UUID.randomUUID().toString().substring(0, 8);
        List<String> emails = new ArrayList<>();
        long downAt = System.currentTimeMillis();
        system.smtpRelay().cut();
        try {
            for (int i = 0; i < REGISTRATIONS; i++) {
                String email = "smtp-" + batch + "-" + i + "@example.com";
                Exchange registered = Exchange.post(system.gatewayUrl() + "/api/users", null, Exchange.user("Mail", email), PATIENCE);
                assertThat(registered.status()).as("registration while the mail server is down: %s", registered).isEqualTo(201);
                assertThat(registered.millis()).as("ms to register while the mail server is down").isLessThan(3000);
                emails.add(email);
            }
            // The server stays away until every welcome mail has failed at least once (and is kept for a retry).
            long failedAt = downAt + FAILURE_LIMIT.toMillis();
            long failed = 0;
            while (failed < REGISTRATIONS && System.currentTimeMillis() < failedAt) {
                ServiceProcess.sleep(250);
                failed = Exchange.count(system, "SELECT count(*) FROM mail_outbox WHERE recipient LIKE ? AND attempts > 0 "
                        + "AND status = 'PENDING'", "smtp-" + batch + "-%");
            }
            System.out.printf("SmtpOutageIT: every mail failed once %d ms after the server went away%n",
                    System.currentTimeMillis() - downAt);
            assertThat(failed).as("welcome mails tried, failed and kept for a retry within %s", FAILURE_LIMIT)
                    .isEqualTo(REGISTRATIONS);
            for (String email : emails) {
                assertThat(system.smtp().getReceivedMessagesForDomain(email)).as("mail to %s while the server is down", email).isEmpty();
            }
        } finally {
            system.smtpRelay().restore();
        }
        long upAt = System.currentTimeMillis();

        for (String email : emails) {
            system.awaitPassword(email, DELIVERY_LIMIT);
        }
        long deliveredAt = System.currentTimeMillis();
        // Long enough for a second copy to show: the outbox polls every second.
        ServiceProcess.sleep(3000);
        for (String email : emails) {
            assertThat(system.smtp().getReceivedMessagesForDomain(email)).as("welcome emails to " + email).hasSize(1);
        }
        assertThat(Exchange.count(system, "SELECT count(*) FROM mail_outbox WHERE recipient LIKE ? AND status = 'SENT' "
                + "AND text_body IS NULL", "smtp-" + batch + "-%")).as("outbox rows marked sent, bodies cleared").isEqualTo(REGISTRATIONS);
        System.out.printf("SmtpOutageIT: mail server down %d ms; all %d emails delivered %d ms after it came back%n",
                upAt - downAt, REGISTRATIONS, deliveredAt - upAt);
    }
}
