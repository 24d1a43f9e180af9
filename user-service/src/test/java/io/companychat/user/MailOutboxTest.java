package io.companychat.user;

import static io.companychat.user.support.Fixtures.uniqueEmail;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.ManagementMetrics;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.service.OutboxSender;
import io.companychat.user.support.Fixtures;
import io.companychat.user.support.GreenMailResource;
import io.companychat.user.support.InjectMailServer;
import io.companychat.user.support.ReceivedMail;
import io.companychat.user.support.Rows;
import io.companychat.user.support.TestMailServer;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The welcome mail is never lost and never sent twice: outbox, retries, concurrent senders. Real SMTP (GreenMail). */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class MailOutboxTest {

    private static final Duration MAIL_TIMEOUT = Duration.ofSeconds(30);
    /** Long enough for several more polls (one a second): a duplicate would have arrived by then. */
    private static final Duration DUPLICATE_WINDOW = Duration.ofMillis(500);
    private static final int RACING_SENDERS = 8;
    /**
     * A racer's pass ends within %test's chat.outbox.send-timeout (60 s) and a few database calls: its sends queue
     * behind the others' for the mail client's connections (seen past 30 s on a loaded machine).
     */
    private static final Duration RACER_PATIENCE = Duration.ofSeconds(90);
    private static final int RACE_MAILS = 40;
    private static final String INSERT_MAIL = """
            INSERT INTO mail_outbox (recipient, subject, text_body, html_body, next_attempt_at)
            VALUES (?, 'Generated password', 'Welcome. Your password is on this line.', '<h1>Welcome</h1>', now() + ?::interval)
            """;

    @Inject
    OutboxSender sender;

    @InjectTestDatabase
    TestDatabase database;

    @InjectMailServer
    TestMailServer mailServer;

    private Rows rows;

    @BeforeEach
    void setUp() {
        rows = new Rows(database);
        mailServer.start();
    }

    @AfterEach
    void smtpServerIsBack() {
        mailServer.start();
    }

    @Test
    void sentMailIsMarkedSentAndItsBodiesWithThePasswordAreCleared() {
        String email = uniqueEmail("cleared");
        Fixtures.register(email);

        mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT);

        Map<String, Object> row = awaitOutboxRow(email, r -> "SENT".equals(r.get("status")));
        assertThat(row.get("text_body")).as("text body after sending").isNull();
        assertThat(row.get("html_body")).as("HTML body after sending").isNull();
        assertThat(row.get("sent_at")).isNotNull();
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("subject")).isEqualTo("Generated password");
    }

    @Test
    void registrationWhileSmtpIsDownIs201AndTheMailArrivesExactlyOnceWhenItIsBack() {
        mailServer.stop();
        String email = uniqueEmail("smtp-down");

        Fixtures.register(email);

        Map<String, Object> failing = awaitOutboxRow(email, r -> ((Integer) r.get("attempts")) >= 2);
        assertThat(failing.get("status")).as("still pending while SMTP is down").isEqualTo("PENDING");
        // the backlog gauges on the management port see the waiting mail (refreshed every poll)
        Awaitility.await("user_outbox_backlog counts the waiting mail").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String scrape = ManagementMetrics.scrape();
            assertThat(ManagementMetrics.value(scrape, "user_outbox_backlog", "")).isGreaterThanOrEqualTo(1);
            assertThat(ManagementMetrics.value(scrape, "user_outbox_oldest_age_seconds", "")).isGreaterThan(0);
        });
        assertThat(failing.get("text_body")).as("the mail is kept for the next attempt").isNotNull();
        assertThat((String) failing.get("last_error")).isNotBlank();
        assertThat(((Timestamp) failing.get("next_attempt_at")).toInstant())
                .as("the next attempt waits (backoff)").isAfter(((Timestamp) failing.get("created_at")).toInstant());
        assertThat(mailServer.mailsTo(email)).isEmpty();

        mailServer.start();

        ReceivedMail mail = mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT).get(0);
        String password = Fixtures.passwordIn(mail.text());
        assertThat((String) failing.get("last_error")).as("the recorded error").doesNotContain(password);
        String hash = (String) rows.one("SELECT password_hash FROM users WHERE email = ?", email).get("password_hash");
        assertThat(BcryptUtil.matches(password, hash)).isTrue();
        // Sent is final: once the row says so, no other copy can follow.
        assertThat(awaitOutboxRow(email, r -> "SENT".equals(r.get("status"))).get("text_body")).isNull();
        assertThat(mailServer.mailsTo(email)).as("mails to " + email).hasSize(1);
    }

    @Test
    void concurrentSendersDeliverEachOutboxMailExactlyOnce() throws Exception {
        String tag = "race-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> recipients = new ArrayList<>();
        for (int i = 0; i < RACE_MAILS; i++) {
            String recipient = tag + "-" + i + "@example.com";
            recipients.add(recipient);
            rows.update(INSERT_MAIL, recipient, "1 hour");
        }
        // The mail client's pooled connections go with the server: the race opens new ones, from plain threads, where
        // a greeting could be lost (OutboxSender's mailContext).
        mailServer.stop();
        mailServer.start();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(RACING_SENDERS);
        List<Future<Integer>> sentBySender = new ArrayList<>();
        try {
            for (int i = 0; i < RACING_SENDERS; i++) {
                sentBySender.add(threads.submit(() -> {
                    start.await();
                    int sent = 0;
                    int batch;
                    do {
                        batch = sender.deliverDue().await().atMost(RACER_PATIENCE);
                        sent += batch;
                    } while (batch > 0);
                    return sent;
                }));
            }
            // All mails fall due at once, then eight senders (and this instance's scheduler) claim together.
            rows.update("UPDATE mail_outbox SET next_attempt_at = now() WHERE recipient LIKE ?", tag + "-%");
            start.countDown();
            int sentByRacers = 0;
            for (Future<Integer> sent : sentBySender) {
                sentByRacers += sent.get(RACER_PATIENCE.toSeconds() + 10, TimeUnit.SECONDS);
            }
            assertThat(sentByRacers).as("mails the racing senders report as sent").isBetween(1, RACE_MAILS);
        } finally {
            threads.shutdownNow();
        }

        for (String recipient : recipients) {
            awaitOutboxRow(recipient, r -> "SENT".equals(r.get("status")));
        }
        // A second copy from a racer whose claim overlapped would still be on its way: the count must hold a moment.
        Awaitility.await("one mail each, and no second copy").during(DUPLICATE_WINDOW).atMost(MAIL_TIMEOUT)
                .until(() -> recipients.stream().allMatch(recipient -> mailServer.mailsTo(recipient).size() == 1));
        assertThat(rows.query("SELECT status, attempts FROM mail_outbox WHERE recipient LIKE ?", tag + "-%"))
                .hasSize(RACE_MAILS)
                .allSatisfy(row -> assertThat(row).containsEntry("status", "SENT").containsEntry("attempts", 1));
    }

    @Test
    void mailLeasedByAReplicaThatDiedIsSentOnceTheLeaseRunsOut() {
        // What a replica leaves behind when it dies after its claim: a pending mail, due again when its lease ends.
        String recipient = uniqueEmail("orphan");
        rows.update(INSERT_MAIL, recipient, "3 seconds");

        Awaitility.await("not sent while another replica holds the lease").during(Duration.ofMillis(1500))
                .atMost(Duration.ofSeconds(2)).until(() -> mailServer.mailsTo(recipient).isEmpty());

        mailServer.awaitMailsTo(recipient, 1, MAIL_TIMEOUT);
        awaitOutboxRow(recipient, r -> "SENT".equals(r.get("status")));
        assertThat(mailServer.mailsTo(recipient)).hasSize(1);
    }

    @Test
    void aMailSentAgainAfterItsSenderDiedIsTheSameMessageToTheRecipient() {
        // What a replica leaves behind when it dies between the SMTP server's acceptance and the mark sent: a mail
        // delivered but still pending. It goes out again when due (never lost), as the same message: one Message-ID,
        // which mail systems show once.
        String recipient = uniqueEmail("resent");
        rows.update(INSERT_MAIL, recipient, "0 seconds");
        ReceivedMail first = mailServer.awaitMailsTo(recipient, 1, MAIL_TIMEOUT).get(0);
        awaitOutboxRow(recipient, r -> "SENT".equals(r.get("status")));
        rows.update("UPDATE mail_outbox SET status = 'PENDING', next_attempt_at = now(), text_body = 'Welcome.' WHERE recipient = ?",
                recipient);

        List<ReceivedMail> copies = mailServer.awaitMailsTo(recipient, 2, MAIL_TIMEOUT);

        Object id = rows.one("SELECT id FROM mail_outbox WHERE recipient = ?", recipient).get("id");
        assertThat(first.messageId()).as("Message-ID of the first copy")
                .matches("<outbox\\." + id + "\\.[0-9]+@company-chat\\.local>");
        assertThat(copies).extracting(ReceivedMail::messageId).as("Message-IDs of both copies").containsOnly(first.messageId());
    }

    @Test
    void mailToAnAddressTheMailerRefusesIsFailedAtOnceAndHoldsUpNoOther() {
        String refused = "<b>not</b>-" + uniqueEmail("refused");
        String fine = uniqueEmail("fine");
        rows.update(INSERT_MAIL, refused, "0 seconds");
        rows.update(INSERT_MAIL, fine, "0 seconds");

        mailServer.awaitMailsTo(fine, 1, MAIL_TIMEOUT);

        Map<String, Object> row = awaitOutboxRow(refused, r -> "FAILED".equals(r.get("status")));
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat((String) row.get("last_error")).contains("invalid");
        assertThat(row.get("text_body")).as("text body (the password) of a mail given up").isNull();
        assertThat(row.get("html_body")).as("HTML body (the password) of a mail given up").isNull();
        assertThat(row).containsEntry("recipient", refused).containsEntry("subject", "Generated password");
    }

    private Map<String, Object> awaitOutboxRow(String recipient, Predicate<Map<String, Object>> condition) {
        return Awaitility.await("the outbox row for " + recipient).atMost(MAIL_TIMEOUT).pollInterval(Duration.ofMillis(100))
                .until(() -> rows.one("SELECT * FROM mail_outbox WHERE recipient = ?", recipient), condition::test);
    }
}
