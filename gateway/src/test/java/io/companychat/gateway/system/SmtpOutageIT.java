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
    private static final Duration OUTAGE_AFTER_REGISTRATIONS = Duration.ofSeconds(4);
    private static final Duration DELIVERY_LIMIT = Duration.ofSeconds(30);
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
            ServiceProcess.sleep(OUTAGE_AFTER_REGISTRATIONS.toMillis());
            for (String email : emails) {
                assertThat(system.smtp().getReceivedMessagesForDomain(email)).as("mail to %s while the server is down", email).isEmpty();
            }
            assertThat(Exchange.count(system, "SELECT count(*) FROM mail_outbox WHERE recipient LIKE ? AND attempts > 0 "
                    + "AND status = 'PENDING'", "smtp-" + batch + "-%")).as("welcome mails tried, failed and kept for a retry")
                    .isEqualTo(REGISTRATIONS);
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
