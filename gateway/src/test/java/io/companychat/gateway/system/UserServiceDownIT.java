package io.companychat.gateway.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 8, "faults, nothing lost": user-service down. Registration through the gateway is refused
 * quickly (502/503) and leaves nothing behind; registrations cut by a killed user-service are
 * stored whole (the user with its welcome mail) or not at all. Login while user-service is down:
 * {@link SessionsIT#loginAnswers503WithRetryAfterWithinTwoSecondsWhileUserServiceIsDown}.
 */
@ExtendWith(SystemExtension.class)
class UserServiceDownIT {

    private static final Duration PATIENCE = Duration.ofSeconds(15);
    private static final long FAST_ERROR_MILLIS = 3000;
    private static final int CONCURRENT_REGISTRATIONS = 12;
    private static final int STORED_BEFORE_KILL = 3;
    /** user-service's chat.outbox.lease in the system tests. */
    private static final Duration OUTBOX_LEASE = RunningSystem.OUTBOX_LEASE;

    private static RunningSystem system;

    @BeforeAll
    static void setUp(RunningSystem runningSystem) {
        system = runningSystem;
    }

    @Test
    void registrationWhileUserServiceIsDownIsRefusedQuicklyAndWritesNothing() {
        String email = "down-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        ServiceProcess users = system.service("user-service");
        users.stop(RunningSystem.STOP_GRACE);
        Exchange refused;
        try {
            refused = Exchange.post(system.gatewayUrl() + "/api/users", null, Exchange.user("Down", email), PATIENCE);
        } finally {
            users.restart();
        }
        assertThat(refused.status()).as(refused.toString()).isIn(502, 503);
        assertThat(refused.hasErrorMessage()).as("an API.md error body: %s", refused).isTrue();
        assertThat(refused.millis()).as("ms until the refusal").isLessThan(FAST_ERROR_MILLIS);
        if (refused.status() == 503) {
            assertThat(refused.retryAfter()).as("503 comes with Retry-After").isNotBlank();
        }
        assertThat(rowsFor(email)).as("users and mail_outbox rows for the refused registration").isEqualTo(List.of(0L, 0L));

        // Nothing half-written: the same address registers normally now, and gets one welcome email.
        Exchange registered = Exchange.post(system.gatewayUrl() + "/api/users", null, Exchange.user("Down", email), PATIENCE);
        assertThat(registered.status()).as(registered.toString()).isEqualTo(201);
        system.awaitPassword(email, Duration.ofSeconds(30));
        ServiceProcess.sleep(2000);
        assertThat(system.smtp().getReceivedMessagesForDomain(email)).as("welcome emails to " + email).hasSize(1);
    }

    @Test
    void registrationsCutByAKilledUserServiceAreStoredWholeOrNotAtAllAndEachStoredOneGetsOneEmail() {
        String batch = UUID.randomUUID().toString().substring(0, 8);
        List<String> emails = new ArrayList<>();
        List<CompletableFuture<Exchange>> answers = new ArrayList<>();
        for (int i = 0; i < CONCURRENT_REGISTRATIONS; i++) {
            String email = "cut-" + batch + "-" + i + "@example.com";
            emails.add(email);
            answers.add(CompletableFuture.supplyAsync(
                    () -> Exchange.post(system.gatewayUrl() + "/api/users", null, Exchange.user("Cut", email), PATIENCE)));
        }
        ServiceProcess users = system.service("user-service");
        // Killed once a few are stored: the others are then being hashed or written.
        long until = System.currentTimeMillis() + PATIENCE.toMillis();
        while (Exchange.count(system, "SELECT count(*) FROM users WHERE email LIKE ?", "cut-" + batch + "-%") < STORED_BEFORE_KILL
                && System.currentTimeMillis() < until) {
            ServiceProcess.sleep(20);
        }
        users.kill();
        List<Exchange> exchanges = answers.stream().map(CompletableFuture::join).toList();
        users.restart();

        for (int i = 0; i < emails.size(); i++) {
            Exchange exchange = exchanges.get(i);
            assertThat(exchange.status()).as("registration %d: %s", i, exchange).isIn(201, 502, 503);
            assertThat(exchange.millis()).as("registration %d answered without a hang", i).isLessThan(PATIENCE.toMillis());
        }
        long created = exchanges.stream().filter(e -> e.status() == 201).count();
        long stored = 0;
        for (int i = 0; i < emails.size(); i++) {
            List<Long> rows = rowsFor(emails.get(i));
            assertThat(rows).as("users and mail_outbox rows for %s (answered %s)", emails.get(i), exchanges.get(i))
                    .isIn(List.of(0L, 0L), List.of(1L, 1L));
            if (exchanges.get(i).status() == 201) {
                assertThat(rows).as("a 201 registration is stored").isEqualTo(List.of(1L, 1L));
            }
            stored += rows.get(0);
        }
        // Every stored user gets exactly one welcome email, including those whose answer was lost in the kill. A mail
        // the killed process had claimed is due again only when its lease (chat.outbox.lease, RunningSystem.OUTBOX_LEASE) runs out.
        for (String email : emails) {
            if (rowsFor(email).get(0) == 1) {
                system.awaitPassword(email, OUTBOX_LEASE.plusSeconds(30));
            }
        }
        ServiceProcess.sleep(2000);
        for (String email : emails) {
            assertThat(system.smtp().getReceivedMessagesForDomain(email)).as("welcome emails to " + email)
                    .hasSize(rowsFor(email).get(0).intValue());
        }
        System.out.printf("UserServiceDownIT: %d of %d registrations answered 201, %d stored%n", created, emails.size(), stored);
    }

    /** [users rows, mail_outbox rows] for the address. */
    private static List<Long> rowsFor(String email) {
        return List.of(Exchange.count(system, "SELECT count(*) FROM users WHERE lower(email) = lower(?)", email),
                Exchange.count(system, "SELECT count(*) FROM mail_outbox WHERE lower(recipient) = lower(?)", email));
    }
}
