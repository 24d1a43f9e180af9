package io.companychat.user;

import static io.companychat.user.support.Fixtures.registration;
import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import io.companychat.common.testing.ServiceProcess;
import io.companychat.common.testing.TestDatabase;
import io.companychat.user.support.Rows;
import io.companychat.user.support.TestMailServer;
import io.restassured.http.ContentType;

/**
 * Two real user-service processes (the packaged jar, prod profile) on one database and one SMTP
 * server, as two replicas run in production: every outbox mail is sent exactly once, both
 * replicas take part, and a mail accepted by a replica that then dies is still delivered.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoReplicasIT {

    private static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    private static final Duration START_LIMIT = Duration.ofSeconds(180);
    private static final Duration MAIL_TIMEOUT = Duration.ofSeconds(90);
    /** A second copy from a replica whose claim overlapped would come right behind the first. */
    private static final Duration DUPLICATE_WINDOW = Duration.ofMillis(500);
    private static final int REGISTRATIONS = 40;
    /** Small batches, so that neither replica can take the whole outbox in one poll. */
    private static final int BATCH_SIZE = 2;
    private static final Pattern SENT_COUNTER = Pattern.compile("(?m)^users_outbox_sent_total(?:\\{[^}]*})? ([0-9.E]+)$");

    private static TestDatabase database;
    private static TestMailServer mailServer;
    private static ServiceProcess first;
    private static ServiceProcess second;

    @BeforeAll
    static void startTwoReplicas() throws IOException {
        assertThat(JAR).as("the packaged service (mvn package)").exists();
        database = TestDatabase.create();
        mailServer = TestMailServer.startOnFreePort();
        Path jwks = Files.createTempFile("two-replicas-jwks", ".json");
        jwks.toFile().deleteOnExit();
        Files.writeString(jwks, "{\"keys\":[]}");
        // Flyway runs in both; its advisory lock lets them start together.
        first = replica("replica-a", jwks);
        second = replica("replica-b", jwks);
        first.start();
        second.start();
        first.awaitReady();
        second.awaitReady();
    }

    @AfterAll
    static void stopEverything() {
        for (ServiceProcess replica : new ServiceProcess[] { first, second }) {
            if (replica != null) {
                replica.stop(Duration.ofSeconds(30));
            }
        }
        if (mailServer != null) {
            mailServer.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    @Order(1)
    void eachMailIsSentExactlyOnceByTwoReplicasAndBothTakePart() {
        List<String> emails = new ArrayList<>();
        for (int i = 0; i < REGISTRATIONS; i++) {
            String email = uniqueEmail("replicas");
            emails.add(email);
            ServiceProcess via = i % 2 == 0 ? first : second;
            given().baseUri(via.baseUrl()).contentType(ContentType.JSON).body(registration(email))
                    .when().post("/api/users")
                    .then().statusCode(201);
        }

        Rows rows = new Rows(database);
        Awaitility.await("every welcome mail sent").atMost(MAIL_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .until(() -> rows.query("SELECT 1 FROM mail_outbox WHERE recipient LIKE 'replicas-%' AND status <> 'SENT'").isEmpty());
        Awaitility.await("one mail each, and no second copy").during(DUPLICATE_WINDOW).atMost(MAIL_TIMEOUT)
                .until(() -> emails.stream().allMatch(email -> mailServer.mailsTo(email).size() == 1));
        assertThat(rows.query("SELECT status, attempts, text_body FROM mail_outbox WHERE recipient LIKE 'replicas-%'"))
                .hasSize(REGISTRATIONS)
                .allSatisfy(row -> assertThat(row).containsEntry("status", "SENT").containsEntry("attempts", 1)
                        .containsEntry("text_body", null));
        long sentByFirst = sentCounter(first);
        long sentBySecond = sentCounter(second);
        assertThat(sentByFirst + sentBySecond).as("mails sent by %s + %s", first.name(), second.name()).isEqualTo(REGISTRATIONS);
        assertThat(sentByFirst).as("mails sent by " + first.name()).isPositive();
        assertThat(sentBySecond).as("mails sent by " + second.name()).isPositive();
    }

    @Test
    @Order(2)
    void mailOfARegistrationWhoseReplicaDiedIsSentByTheOther() {
        mailServer.stop();
        String email = uniqueEmail("orphaned");
        given().baseUri(second.baseUrl()).contentType(ContentType.JSON).body(registration(email))
                .when().post("/api/users")
                .then().statusCode(201);

        second.kill();
        mailServer.start();

        mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT);
        Awaitility.await("the orphaned mail's row sent").atMost(MAIL_TIMEOUT).pollInterval(Duration.ofMillis(200))
                .until(() -> "SENT".equals(new Rows(database).one("SELECT status FROM mail_outbox WHERE recipient = ?", email).get("status")));
        assertThat(mailServer.mailsTo(email)).hasSize(1);
    }

    private static ServiceProcess replica(String name, Path jwks) {
        int port = ServiceProcess.freePort();
        Map<String, String> environment = Map.ofEntries(
                Map.entry("PGHOST", database.host()),
                Map.entry("PGPORT", Integer.toString(database.port())),
                Map.entry("PGDATABASE", database.name()),
                Map.entry("PGUSER", database.user()),
                Map.entry("PGPASSWORD", database.password()),
                Map.entry("QUARKUS_MAILER_MOCK", "false"),
                Map.entry("QUARKUS_MAILER_HOST", "127.0.0.1"),
                Map.entry("QUARKUS_MAILER_PORT", Integer.toString(mailServer.port())),
                Map.entry("QUARKUS_MAILER_START_TLS", "DISABLED"),
                Map.entry("CHAT_OUTBOX_BATCH_SIZE", Integer.toString(BATCH_SIZE)),
                Map.entry("INTERNAL_SERVICE_TOKEN", "two-replicas-it"),
                Map.entry("MP_JWT_VERIFY_PUBLICKEY_LOCATION", jwks.toUri().toString()),
                Map.entry("AUTH_SERVICE_URL", "http://127.0.0.1:" + ServiceProcess.freePort()));
        return new ServiceProcess(name, JAR, environment, port, "http://127.0.0.1:" + port + "/q/health/ready",
                Path.of("target", "two-replicas-" + name + ".log"), START_LIMIT);
    }

    private static long sentCounter(ServiceProcess replica) {
        String metrics = given().baseUri(replica.baseUrl()).when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher matcher = SENT_COUNTER.matcher(metrics);
        assertThat(matcher.find()).as("users_outbox_sent_total in the metrics of " + replica.name()).isTrue();
        return (long) Double.parseDouble(matcher.group(1));
    }
}
