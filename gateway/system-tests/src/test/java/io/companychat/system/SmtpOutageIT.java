package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 8, "faults, nothing lost": the mail server is unreachable for a while during registrations.
 * Registration still answers 201 at once, and once the server is back every welcome email is
 * delivered exactly once.
 */
@ExtendWith(SystemExtension.class)
@BusIndependent
@Order(Order.DEFAULT + 2)
class SmtpOutageIT {

    private static final int REGISTRATIONS = 6;
    /** Each mail's first attempt fails within a poll or two of its registration (the relay refuses at once). */
    private static final Duration FAILURE_LIMIT = Duration.ofSeconds(30);
    /** A retry comes within the (shortened) maximum backoff of the server's return. */
    private static final Duration DELIVERY_LIMIT = Duration.ofSeconds(30);
    private static final Duration PATIENCE = Duration.ofSeconds(15);

    private static RunningSystem system;

    @Test
    void everyWelcomeEmailOfRegistrationsDuringAnSmtpOutageIsDeliveredExactlyOnceAfterItEnds() {
        String batch = "smtp-" + UUID.randomUUID().toString().substring(0, 8) + "-%";
        List<String> emails = new ArrayList<>();
        long downAt = System.currentTimeMillis();
        system.smtpRelay().cut();
        try {
            for (int i = 0; i < REGISTRATIONS; i++) {
                String email = batch.replace("%", i + "@example.com");
                Exchange registered = Exchange.post(system.gatewayUrl() + "/api/users", null, Exchange.user("Mail", email), PATIENCE);
                assertThat(registered.status()).as("registration while the mail server is down: %s", registered).isEqualTo(201);
                assertThat(registered.millis()).as("ms to register while the mail server is down").isLessThan(3000);
                emails.add(email);
            }
            // The server stays away until every welcome mail has failed at least once (and is kept for a retry).
            Awaitility.await("every welcome mail tried, failed and kept for a retry").atMost(FAILURE_LIMIT)
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> Exchange.count(system, "SELECT count(*) FROM mail_outbox WHERE recipient LIKE ? "
                            + "AND attempts > 0 AND status = 'PENDING'", batch), failed -> failed == REGISTRATIONS);
            System.out.printf("SmtpOutageIT: every mail failed once %d ms after the server went away%n",
                    System.currentTimeMillis() - downAt);
            for (String email : emails) {
                assertThat(system.smtp().getReceivedMessagesForDomain(email)).as("mail to %s while the server is down", email).isEmpty();
            }
        } finally {
            system.smtpRelay().restore();
        }
        long upAt = System.currentTimeMillis();

        system.assertExactlyOneWelcomeMailEach(emails, DELIVERY_LIMIT);
        System.out.printf("SmtpOutageIT: mail server down %d ms; all %d emails delivered %d ms after it came back%n",
                upAt - downAt, REGISTRATIONS, System.currentTimeMillis() - upAt);
        for (String email : emails) {
            assertThat(system.awaitPassword(email, Duration.ofSeconds(1))).as("the password in the mail to %s", email).isNotBlank();
        }
        assertThat(Exchange.count(system, "SELECT count(*) FROM mail_outbox WHERE recipient LIKE ? AND status = 'SENT' "
                + "AND text_body IS NULL", batch)).as("outbox rows marked sent, bodies cleared").isEqualTo(REGISTRATIONS);
    }
}
