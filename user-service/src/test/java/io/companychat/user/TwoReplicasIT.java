package io.companychat.user;

import static io.companychat.user.support.Fixtures.registration;
import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.Rows;
import io.companychat.user.support.TestMailServer;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/**
 * Two real user-service processes (the packaged jar, prod profile) on one database and one SMTP
 * server, as two replicas run in production: every outbox mail is sent exactly once, both
 * replicas take part, the registrations of a client address are counted by both together, and a
 * mail accepted by a replica that then dies is still delivered.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoReplicasIT {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration MAIL_TIMEOUT = Duration.ofSeconds(90);
    private static final int REGISTRATIONS = 40;
    /** Small batches, so that neither replica can take the whole outbox in one poll. */
    private static final int BATCH_SIZE = 2;
    /** CHAT_REGISTRATION_LIMIT's default: registrations per client address per hour. */
    private static final int REGISTRATION_LIMIT = 10;
    private static final AtomicInteger CLIENT_ADDRESSES = new AtomicInteger();
    private static final Pattern SENT_COUNTER = Pattern.compile("(?m)^users_outbox_sent_total(?:\\{[^}]*})? ([0-9.E]+)$");

    private static TestDatabase database;
    private static TestMailServer mailServer;
    /** auth-service's JWKS and revoked-token list: a replica is not ready before it has loaded the list. */
    private static TestTokensResource authService;
    private static Map<String, String> authServiceConfig;
    private static Replica first;
    private static Replica second;

    /** One replica: the packaged jar through common's launcher, and its management (metrics) port. */
    private record Replica(ServiceProcess process, int managementPort) {

        String name() {
            return process.name();
        }

        String url() {
            return process.baseUrl();
        }
    }

    @BeforeAll
    static void startTwoReplicas() throws Exception {
        assertThat(ServiceProcess.MODULE_JAR).as("the packaged service (mvn package)").exists();
        database = TestDatabase.create();
        mailServer = TestMailServer.startOnFreePort();
        authService = new TestTokensResource();
        authServiceConfig = authService.start();
        // Flyway runs in both; its advisory lock lets them start together.
        first = start("two-replicas-replica-a");
        second = start("two-replicas-replica-b");
        first.process().awaitReady();
        second.process().awaitReady();
    }

    @AfterAll
    static void stopEverything() {
        for (Replica replica : new Replica[] { first, second }) {
            if (replica != null) {
                replica.process().terminate();
            }
        }
        for (Replica replica : new Replica[] { first, second }) {
            if (replica != null) {
                replica.process().close();
            }
        }
        if (mailServer != null) {
            mailServer.close();
        }
        if (authService != null) {
            authService.stop();
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
            Replica via = i % 2 == 0 ? first : second;
            register(via, nextClientAddress(), email).then().statusCode(201);
        }

        for (String email : emails) {
            mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT);
        }
        awaitAllSent("replicas-%");

        for (String email : emails) {
            assertThat(mailServer.mailsTo(email)).as("mails to " + email).hasSize(1);
        }
        Rows rows = new Rows(database);
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
    void registrationsOfAClientAddressAreCountedByBothReplicasTogether() {
        String client = nextClientAddress();
        for (int i = 0; i < REGISTRATION_LIMIT; i++) {
            Replica via = i % 2 == 0 ? first : second;
            register(via, client, uniqueEmail("counted")).then().statusCode(201);
        }

        for (Replica via : new Replica[] { first, second }) {
            Response refused = register(via, client, uniqueEmail("counted"));
            assertThat(refused.statusCode()).as("registration %d of %s, through %s", REGISTRATION_LIMIT + 1, client, via.name())
                    .isEqualTo(429);
            assertThat(refused.header("Retry-After")).isNotNull();
        }
        register(first, nextClientAddress(), uniqueEmail("counted")).then().statusCode(201);
    }

    @Test
    @Order(3)
    void mailOfARegistrationWhoseReplicaDiedIsSentByTheOther() {
        mailServer.stop();
        String email = uniqueEmail("orphaned");
        register(second, nextClientAddress(), email).then().statusCode(201);

        second.process().kill();
        mailServer.start();

        mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT);
        awaitAllSent(email);
        assertThat(mailServer.mailsTo(email)).hasSize(1);
    }

    private static Replica start(String name) {
        // two replicas on one machine: the metrics port (9081 deployed) must differ too
        int managementPort = ServiceProcess.freePort();
        Map<String, String> environment = Map.ofEntries(
                Map.entry("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort)),
                Map.entry("PGHOST", database.host()),
                Map.entry("PGPORT", Integer.toString(database.port())),
                Map.entry("PGDATABASE", database.name()),
                Map.entry("PGUSER", database.user()),
                Map.entry("PGPASSWORD", database.password()),
                Map.entry("QUARKUS_MAILER_HOST", "127.0.0.1"),
                Map.entry("QUARKUS_MAILER_PORT", Integer.toString(mailServer.port())),
                Map.entry("QUARKUS_MAILER_START_TLS", "DISABLED"),
                Map.entry("CHAT_OUTBOX_BATCH_SIZE", Integer.toString(BATCH_SIZE)),
                // The registering replica may die holding the mail's lease (a poll claimed it just before the kill): the
                // other sends it when the lease ends (2 min deployed; short here, above the send timeout as it must be).
                Map.entry("CHAT_OUTBOX_LEASE", "8s"),
                Map.entry("CHAT_OUTBOX_SEND_TIMEOUT", "4s"),
                Map.entry("INTERNAL_SERVICE_TOKEN", TestTokensResource.SERVICE_TOKEN),
                // the JWKS and the revoked-token list both hang off auth-service's address
                Map.entry("AUTH_SERVICE_URL", authServiceConfig.get("quarkus.rest-client.auth-service.url")));
        ServiceProcess process = ServiceProcess.ofModule(name, environment, START_TIMEOUT);
        process.start();
        return new Replica(process, managementPort);
    }

    /**
     * Every outbox row of these recipients ({@code LIKE} pattern) is {@code SENT}, a state no row leaves: no replica
     * will send them again, so the mails received now are all there will be (no fixed window to wait out).
     */
    private static void awaitAllSent(String recipients) {
        Rows rows = new Rows(database);
        Awaitility.await("outbox rows of " + recipients + " sent").atMost(MAIL_TIMEOUT).pollInterval(Duration.ofMillis(100))
                .until(() -> rows.count("SELECT count(*) FROM mail_outbox WHERE recipient LIKE ? AND status <> 'SENT'", recipients) == 0);
    }

    /** As through the gateway (a trusted proxy on loopback): the replica counts the forwarded client address. */
    private static Response register(Replica via, String clientAddress, String email) {
        return given().baseUri(via.url()).header("X-Forwarded-For", clientAddress).contentType(ContentType.JSON)
                .body(registration(email)).when().post("/api/users");
    }

    private static String nextClientAddress() {
        int n = CLIENT_ADDRESSES.incrementAndGet();
        return "198.18." + (n / 250) + "." + (1 + n % 250);
    }

    private static long sentCounter(Replica replica) {
        String metrics = given().baseUri("http://127.0.0.1:" + replica.managementPort()).when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher matcher = SENT_COUNTER.matcher(metrics);
        assertThat(matcher.find()).as("users_outbox_sent_total in the metrics of " + replica.name()).isTrue();
        return (long) Double.parseDouble(matcher.group(1));
    }
}
