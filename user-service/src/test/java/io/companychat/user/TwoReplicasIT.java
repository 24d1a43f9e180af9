package io.companychat.user;

import static io.companychat.user.support.Fixtures.registration;
import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

    private static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
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

    private record Replica(String name, Process process, int port, int managementPort, Path log) {

        String url() {
            return "http://127.0.0.1:" + port;
        }
    }

    @BeforeAll
    static void startTwoReplicas() throws Exception {
        assertThat(JAR).as("the packaged service (mvn package)").exists();
        database = TestDatabase.create();
        mailServer = TestMailServer.startOnFreePort();
        authService = new TestTokensResource();
        authServiceConfig = authService.start();
        // Flyway runs in both; its advisory lock lets them start together.
        first = start("replica-a");
        second = start("replica-b");
        awaitReady(first);
        awaitReady(second);
    }

    @AfterAll
    static void stopEverything() {
        for (Replica replica : new Replica[] { first, second }) {
            if (replica != null) {
                replica.process().destroy();
            }
        }
        for (Replica replica : new Replica[] { first, second }) {
            if (replica != null) {
                waitFor(replica.process());
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

        second.process().destroyForcibly();
        waitFor(second.process());
        mailServer.start();

        mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT);
        awaitAllSent(email);
        assertThat(mailServer.mailsTo(email)).hasSize(1);
    }

    private static Replica start(String name) throws IOException {
        int port = freePort();
        int managementPort = freePort();
        Path log = Path.of("target", "two-replicas-" + name + ".log");
        Map<String, String> config = Map.ofEntries(
                Map.entry("quarkus.http.port", Integer.toString(port)),
                // two replicas on one machine: the metrics port (9081 deployed) must differ too
                Map.entry("quarkus.management.port", Integer.toString(managementPort)),
                Map.entry("quarkus.datasource.reactive.url",
                        "postgresql://" + database.host() + ":" + database.port() + "/" + database.name()),
                Map.entry("quarkus.datasource.jdbc.url", database.jdbcUrl()),
                Map.entry("quarkus.datasource.username", database.user()),
                Map.entry("quarkus.datasource.password", database.password()),
                Map.entry("quarkus.mailer.mock", "false"),
                Map.entry("quarkus.mailer.host", "127.0.0.1"),
                Map.entry("quarkus.mailer.port", Integer.toString(mailServer.port())),
                Map.entry("quarkus.mailer.start-tls", "DISABLED"),
                Map.entry("chat.outbox.batch-size", Integer.toString(BATCH_SIZE)),
                // The registering replica may die holding the mail's lease (a poll claimed it just before the kill): the
                // other sends it when the lease ends (2 min deployed; short here, above the send timeout as it must be).
                Map.entry("chat.outbox.lease", "8s"),
                Map.entry("chat.outbox.send-timeout", "4s"),
                Map.entry("internal.service-token", TestTokensResource.SERVICE_TOKEN),
                Map.entry("mp.jwt.verify.publickey.location", authServiceConfig.get("mp.jwt.verify.publickey.location")),
                Map.entry("quarkus.rest-client.auth-service.url", authServiceConfig.get("quarkus.rest-client.auth-service.url")));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:TieredStopAtLevel=1"); // as every service a test starts (common's ServiceProcess says why)
        config.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-jar");
        command.add(JAR.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new Replica(name, process, port, managementPort, log);
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

    private static void awaitReady(Replica replica) throws IOException {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!replica.process().isAlive()) {
                throw new AssertionError(replica.name() + " exited with " + replica.process().exitValue() + ":\n"
                        + Files.readString(replica.log()));
            }
            try {
                if (given().baseUri(replica.url()).when().get("/q/health/ready").statusCode() == 200) {
                    return;
                }
            } catch (Exception notListeningYet) {
                // connection refused until the HTTP server is up
            }
            sleep(Duration.ofMillis(500));
        }
        throw new AssertionError(replica.name() + " not ready within " + START_TIMEOUT.toSeconds() + " s; log in " + replica.log());
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

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void waitFor(Process process) {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
