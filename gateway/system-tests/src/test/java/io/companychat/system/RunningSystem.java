package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;

import org.awaitility.Awaitility;
import org.jose4j.jwk.RsaJsonWebKey;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;

import io.companychat.common.testing.JwtForgery;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.common.testing.TcpRelay;
import io.companychat.common.testing.TestDatabase;
import io.restassured.http.ContentType;

/**
 * The whole system as ops run it: user-service, auth-service, two chat-service replicas and the
 * gateway, each a real process from its packaged jar, on a fresh PostgreSQL database, with a
 * real SMTP server (GreenMail) for the welcome emails. The gateway routes chat to the first
 * replica; the second is reached directly, as a load balancer would send other clients there.
 * The services reach PostgreSQL and the SMTP server through {@link TcpRelay}s, so that a test can
 * take either away for real (every connection dropped, new ones refused) and bring it back.
 */
public final class RunningSystem implements AutoCloseable {

    static final Duration START_LIMIT = Duration.ofSeconds(240);
    static final Duration STOP_GRACE = Duration.ofSeconds(20);
    /** Every service's QUARKUS_SHUTDOWN_TIMEOUT here: user- and auth-service's deployed value. */
    static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(20);

    /**
     * The production timeouts that only make a test wait, shortened for the system tests (as super-heroes'
     * {@code ShorterTimeoutsProfile} does): what a test proves about them (a send that fails is retried, a claimed
     * mail of a dead replica is sent after its lease, requests in flight at SIGTERM finish before the process exits)
     * does not depend on their length. deploy/checks keeps the deployed values within Kubernetes' grace period.
     */
    static final class ShorterTimeouts {
        /** user-service's chat.outbox.lease (2 min deployed); above the send timeout, as it must be. */
        static final Duration OUTBOX_LEASE = Duration.ofSeconds(8);
        /** user-service's chat.outbox.send-timeout (20 s deployed). */
        static final Duration OUTBOX_SEND_TIMEOUT = Duration.ofSeconds(4);
        /** user-service's chat.outbox.max-backoff (5 min deployed): a retry after an outage comes within it. */
        static final Duration OUTBOX_MAX_BACKOFF = Duration.ofSeconds(2);
        /** chat-service's chat.presence.heartbeat-interval and replica-timeout (10 s and 30 s deployed). */
        static final Duration PRESENCE_HEARTBEAT = Duration.ofSeconds(2);
        static final Duration PRESENCE_REPLICA_TIMEOUT = Duration.ofSeconds(6);

        private ShorterTimeouts() {
        }
    }

    private final Path root;
    private final Path workDir;
    private final TestDatabase database;
    private final GreenMail smtp;
    private final TcpRelay databaseRelay;
    private final TcpRelay smtpRelay;
    private final String serviceToken;
    /** The live-event bus of the chat-service replicas: {@code postgres} (the default) or {@code nats} ({@code -Dsystem.bus}). */
    private final String bus;
    private final NatsServer nats;
    /** Between chat-service and NATS; chat-service-2 has its own, so that a test can cut one replica's link only. */
    private final TcpRelay natsRelay;
    private final TcpRelay natsRelay2;
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();

    /** This run's bus: {@code -Dsystem.bus}, {@code postgres} by default. */
    static String configuredBus() {
        return System.getProperty("system.bus", "postgres");
    }
    private RsaJsonWebKey signingKey;
    private int gatewayManagementPort;
    /** Each process's management port (metrics; the gateway's health too). */
    private final Map<String, Integer> managementPorts = new HashMap<>();
    /** Where every process sends its spans (ObservabilityIT). */
    private final OtlpReceiver traces = OtlpReceiver.start();

    private RunningSystem(Path root) {
        this.root = root;
        this.workDir = Path.of("target").toAbsolutePath().resolve("system-" + UUID.randomUUID().toString().substring(0, 8));
        this.database = TestDatabase.create();
        this.smtp = new GreenMail(new ServerSetup(ServiceProcess.freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        this.smtp.start();
        this.databaseRelay = TcpRelay.start(database.host(), database.port());
        this.smtpRelay = TcpRelay.start("127.0.0.1", smtp.getSmtp().getPort());
        this.serviceToken = randomToken();
        this.bus = configuredBus();
        this.nats = "nats".equals(bus) ? NatsServer.start(workDir.resolve("logs/nats-server.log")) : null;
        this.natsRelay = nats == null ? null : TcpRelay.start("127.0.0.1", nats.port());
        this.natsRelay2 = nats == null ? null : TcpRelay.start("127.0.0.1", nats.port());
    }

    /** Starts everything and waits until every process is ready. */
    public static RunningSystem start() {
        RunningSystem system = new RunningSystem(repositoryRoot());
        try {
            system.launch();
            return system;
        } catch (RuntimeException | Error e) {
            // Errors too (a class missing from the test classpath): the processes started so far must not outlive the run.
            system.close();
            throw e;
        }
    }

    private void launch() {
        Path signingKeyFile = writeSigningKey();
        int userPort = ServiceProcess.freePort();
        int authPort = ServiceProcess.freePort();
        int chatPort = ServiceProcess.freePort();
        int chatReplicaPort = ServiceProcess.freePort();
        int gatewayPort = ServiceProcess.freePort();
        gatewayManagementPort = ServiceProcess.freePort();
        Map<String, String> common = new HashMap<>();
        common.put("PGHOST", "127.0.0.1");
        common.put("PGPORT", Integer.toString(databaseRelay.port()));
        common.put("PGDATABASE", database.name());
        common.put("PGUSER", database.user());
        common.put("PGPASSWORD", database.password());
        common.put("INTERNAL_SERVICE_TOKEN", serviceToken);
        common.put("USER_SERVICE_URL", "http://127.0.0.1:" + userPort);
        common.put("AUTH_SERVICE_URL", "http://127.0.0.1:" + authPort);
        common.put("CHAT_SERVICE_URL", "http://127.0.0.1:" + chatPort);
        common.put("QUARKUS_LOG_CONSOLE_COLOR", "false");
        // Traces on, every one sampled, exported to the test JVM at once (not every 5 s); the processes keep the prod
        // profile's JSON logs. ObservabilityIT checks both.
        common.put("OTEL_SDK_DISABLED", "false");
        common.put("OTEL_EXPORTER_OTLP_ENDPOINT", traces.endpoint());
        common.put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        common.put("OTEL_TRACES_SAMPLER_ARG", "1.0");
        common.put("QUARKUS_OTEL_BSP_SCHEDULE_DELAY", "200ms");
        // How long requests in flight may finish after SIGTERM (deployed: 20 s; chat-service 45 s, gateway 30 s). An
        // open socket counts until it is closed, which chat-service and the gateway do at once: no stop waits this out.
        common.put("QUARKUS_SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUT.toSeconds() + "s");
        // API.md's abuse limits are tested on their own; the other system tests register and send far more
        // from one address and one user than a person would.
        common.put("CHAT_REGISTRATION_LIMIT", "0");
        common.put("CHAT_MESSAGE_RATE", "0");
        common.put("CHAT_SOCKETS_PER_USER", "0");
        // The two passes run side by side, each a system of four or more services on the one PostgreSQL of the
        // machine (max_connections 100 by default). Deployed pools (20 reactive connections a service, kept once
        // opened, and the 2 of Flyway's JDBC pool, idle for 5 min) would let two systems under load take ~180 and
        // refuse "too many clients already": here a service keeps at most 8, and Flyway's close 10 s after start.
        common.put("QUARKUS_DATASOURCE_REACTIVE_MAX_SIZE", "8");
        common.put("QUARKUS_DATASOURCE_JDBC_IDLE_REMOVAL_INTERVAL", "10S");

        // At SIGTERM, sockets are closed paced (deployed: 2,000 a second); 50 a second shows it on GracefulShutdownIT's 20.
        common.put("CHAT_SHUTDOWN_CLOSE_RATE", "50");
        common.put("GATEWAY_SHUTDOWN_CLOSE_RATE", "50");

        Map<String, String> chat = new HashMap<>(common);
        chat.put("CHAT_PRESENCE_HEARTBEAT_INTERVAL", ShorterTimeouts.PRESENCE_HEARTBEAT.toSeconds() + "s");
        chat.put("CHAT_PRESENCE_REPLICA_TIMEOUT", ShorterTimeouts.PRESENCE_REPLICA_TIMEOUT.toSeconds() + "s");
        chat.put("CHAT_BUS", bus);
        if (natsRelay != null) {
            chat.put("NATS_URL", "nats://127.0.0.1:" + natsRelay.port());
        }

        Map<String, String> user = new HashMap<>(common);
        user.put("QUARKUS_MAILER_MOCK", "false");
        user.put("QUARKUS_MAILER_HOST", "127.0.0.1");
        user.put("QUARKUS_MAILER_PORT", Integer.toString(smtpRelay.port()));
        user.put("QUARKUS_MAILER_START_TLS", "DISABLED");
        user.put("QUARKUS_MAILER_TLS", "false");
        user.put("CHAT_OUTBOX_LEASE", ShorterTimeouts.OUTBOX_LEASE.toSeconds() + "s");
        user.put("CHAT_OUTBOX_SEND_TIMEOUT", ShorterTimeouts.OUTBOX_SEND_TIMEOUT.toSeconds() + "s");
        user.put("CHAT_OUTBOX_MAX_BACKOFF", ShorterTimeouts.OUTBOX_MAX_BACKOFF.toSeconds() + "s");
        // The fault tests register 12-16 people at once to have requests in flight; the deployed bound (8 waiting for
        // bcrypt, then 503) is user-service's RegistrationLimitsTest's.
        user.put("CHAT_PASSWORD_MAX_WAITING_REGISTRATIONS", "64");
        Map<String, String> auth = new HashMap<>(common);
        auth.put("AUTH_SIGNING_KEY_LOCATION", signingKeyFile.toString());
        Map<String, String> gateway = new HashMap<>(common);
        gateway.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(gatewayManagementPort));
        managementPorts.put("gateway", gatewayManagementPort);

        add("user-service", "user-service", user, userPort, "/q/health/ready");
        add("auth-service", "auth-service", auth, authPort, "/q/health/ready");
        add("chat-service", "chat-service", chat, chatPort, "/q/health/ready");
        Map<String, String> chat2 = new HashMap<>(chat);
        if (natsRelay2 != null) {
            chat2.put("NATS_URL", "nats://127.0.0.1:" + natsRelay2.port());
        }
        add("chat-service-2", "chat-service", chat2, chatReplicaPort, "/q/health/ready");
        services.put("gateway", new ServiceProcess("gateway", jar("gateway"), gateway, gatewayPort,
                "http://127.0.0.1:" + gatewayManagementPort + "/q/health/ready", workDir.resolve("logs/gateway.log"), START_LIMIT));
        services.values().forEach(ServiceProcess::start);
        services.values().forEach(ServiceProcess::awaitReady);
        warmUp();
    }

    /**
     * One registration and login through every hop before the tests begin: on a busy machine the first calls
     * between freshly started services can exceed their timeouts (login then answers 503, as it should), which
     * is not what any test is about.
     */
    private void warmUp() {
        TestUser user = register("Warm");
        Awaitility.await("a first login through the gateway").atMost(START_LIMIT).pollInterval(Duration.ofMillis(500))
                .until(() -> given().baseUri(gatewayUrl()).contentType(ContentType.JSON)
                        .body(Map.of("creds", Map.of("email", user.email(), "password", user.password())))
                        .when().post("/api/login").statusCode(), status -> {
                            if (status != 200 && status != 503) {
                                throw new IllegalStateException("warm-up login answered " + status);
                            }
                            return status == 200;
                        });
    }

    private void add(String name, String module, Map<String, String> sharedEnvironment, int port, String readinessPath) {
        Map<String, String> environment = new HashMap<>(sharedEnvironment);
        int managementPort = ServiceProcess.freePort();
        environment.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort));
        managementPorts.put(name, managementPort);
        services.put(name, new ServiceProcess(name, jar(module), environment, port,
                "http://127.0.0.1:" + port + readinessPath, workDir.resolve("logs/" + name + ".log"), START_LIMIT));
    }

    public String gatewayUrl() {
        return service("gateway").baseUrl();
    }

    /** The gateway's management interface: health and metrics, never on the public port. */
    public String gatewayManagementUrl() {
        return "http://127.0.0.1:" + gatewayManagementPort;
    }

    /** The management interface of one process ({@code user-service}, ..., {@code gateway}): its metrics. */
    public String managementUrl(String service) {
        Integer port = managementPorts.get(service);
        if (port == null) {
            throw new IllegalArgumentException("no service " + service);
        }
        return "http://127.0.0.1:" + port;
    }

    /** The spans every process exports. */
    OtlpReceiver traces() {
        return traces;
    }

    /** The WebSocket base of one process ({@code gateway}, {@code chat-service}, {@code chat-service-2}), for {@link io.companychat.common.testing.PhoenixTestSocket}. */
    public String wsBase(String service) {
        return "ws://127.0.0.1:" + service(service).port();
    }

    /** The WebSocket endpoint of the gateway as a Phoenix client is given it (it appends {@code /websocket}). */
    public String gatewaySocketEndpoint() {
        return "ws://127.0.0.1:" + service("gateway").port() + "/socket";
    }

    public ServiceProcess service(String name) {
        ServiceProcess service = services.get(name);
        if (service == null) {
            throw new IllegalArgumentException("no service " + name);
        }
        return service;
    }

    public List<ServiceProcess> services() {
        return List.copyOf(services.values());
    }

    /** Token forgery with auth-service's real key (and its key id as published in the JWKS). */
    public Tokens tokens() {
        String kid = given().baseUri(gatewayUrl()).when().get("/.well-known/jwks.json")
                .then().statusCode(200).extract().jsonPath().getString("keys[0].kid");
        return new Tokens(signingKey.getPrivateKey(), kid);
    }

    public TestDatabase database() {
        return database;
    }

    public GreenMail smtp() {
        return smtp;
    }

    /** Between every service and PostgreSQL: {@link TcpRelay#cut()} takes the database away from them. */
    public TcpRelay databaseRelay() {
        return databaseRelay;
    }

    /** Between user-service and the SMTP server: {@link TcpRelay#cut()} takes the mail server away. */
    public TcpRelay smtpRelay() {
        return smtpRelay;
    }

    /** The chat-service replicas' live-event bus: {@code postgres} or {@code nats}. */
    public String bus() {
        return bus;
    }

    /** The system's own nats-server ({@code system.bus=nats} only): a test may kill and restart it. */
    NatsServer nats() {
        if (nats == null) {
            throw new IllegalStateException("the system runs on " + bus + ", not NATS");
        }
        return nats;
    }

    /**
     * Between a chat-service replica ({@code chat-service} or {@code chat-service-2}) and NATS ({@code system.bus=nats}
     * only): {@link TcpRelay#cut()} takes NATS away from that replica.
     */
    public TcpRelay natsRelay(String replica) {
        nats();
        return switch (replica) {
            case "chat-service" -> natsRelay;
            case "chat-service-2" -> natsRelay2;
            default -> throw new IllegalArgumentException("no chat-service replica " + replica);
        };
    }

    public String serviceToken() {
        return serviceToken;
    }

    /** Registers a new user through the gateway and reads the generated password from the welcome email. */
    public TestUser register(String name) {
        String email = name.toLowerCase().replaceAll("[^a-z0-9]", "") + "-" + UUID.randomUUID().toString().substring(0, 8)
                + "@example.com";
        long id = given().baseUri(gatewayUrl()).contentType(ContentType.JSON)
                .body(Map.of("user", Map.of("name", name, "subname", "Tester", "email", email, "job", "engineer")))
                .when().post("/api/users")
                .then().statusCode(201)
                .extract().jsonPath().getLong("id");
        return new TestUser(id, email, awaitPassword(email, Duration.ofSeconds(30)));
    }

    /** Logs in through the gateway; the token. */
    public String login(TestUser user) {
        return given().baseUri(gatewayUrl()).contentType(ContentType.JSON)
                .body(Map.of("creds", Map.of("email", user.email(), "password", user.password())))
                .when().post("/api/login")
                .then().statusCode(200)
                .extract().jsonPath().getString("data.token");
    }

    /** Opens (or finds) the conversation between the token's user and {@code recipientId}; its id. */
    public long conversation(String token, long recipientId) {
        return given().baseUri(gatewayUrl()).auth().oauth2(token).contentType(ContentType.JSON)
                .body(Map.of("recipient_id", recipientId))
                .when().post("/api/conversations")
                .then().statusCode(org.hamcrest.Matchers.anyOf(org.hamcrest.Matchers.is(200), org.hamcrest.Matchers.is(201)))
                .extract().jsonPath().getLong("id");
    }

    public String awaitPassword(String email, Duration limit) {
        return Awaitility.await("a welcome email for " + email).atMost(limit).pollInterval(Duration.ofMillis(100))
                .until(() -> Arrays.stream(smtp.getReceivedMessagesForDomain(email))
                        .map(message -> passwordIn(GreenMailUtil.getBody(message))).filter(Objects::nonNull)
                        .findFirst().orElse(null), Objects::nonNull);
    }

    /**
     * Every welcome mail to these addresses is delivered, and none will be sent again: their outbox rows are
     * {@code SENT} (a row leaves that state never), and the mail server holds exactly one mail for each address.
     */
    public void assertExactlyOneWelcomeMailEach(Collection<String> emails, Duration limit) {
        Awaitility.await("welcome mails to " + emails + " sent").atMost(limit).pollInterval(Duration.ofMillis(100))
                .until(() -> emails.stream().allMatch(email -> Exchange.count(this,
                        "SELECT count(*) FROM mail_outbox WHERE lower(recipient) = lower(?) AND status <> 'SENT'", email) == 0));
        for (String email : emails) {
            assertThat(smtp.getReceivedMessagesForDomain(email)).as("welcome emails to %s", email).hasSize(1);
        }
    }

    /**
     * After a SIGKILL: each address got its welcome mail, as one message. A mail the killed process had handed to the
     * SMTP server but not yet marked sent goes out again when its lease ends (never lost), with the same Message-ID,
     * which mail systems show once; any other second mail fails this. The number of such copies is returned.
     */
    public int assertOneWelcomeMessageEach(Collection<String> emails, Duration limit) {
        Awaitility.await("welcome mails to " + emails + " sent").atMost(limit).pollInterval(Duration.ofMillis(100))
                .until(() -> emails.stream().allMatch(email -> Exchange.count(this,
                        "SELECT count(*) FROM mail_outbox WHERE lower(recipient) = lower(?) AND status <> 'SENT'", email) == 0));
        int copies = 0;
        for (String email : emails) {
            MimeMessage[] received = smtp.getReceivedMessagesForDomain(email);
            assertThat(received).as("welcome emails to %s", email).isNotEmpty();
            assertThat(Arrays.stream(received).map(RunningSystem::messageId).distinct().toList())
                    .as("Message-IDs of the welcome emails to %s", email).hasSize(1);
            copies += received.length - 1;
        }
        return copies;
    }

    private static String messageId(MimeMessage message) {
        try {
            return message.getMessageID();
        } catch (MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The generated password stands alone on the line after "This is your generated password:". */
    static String passwordIn(String body) {
        String[] lines = body.replace("\r", "").split("\n");
        for (int i = 0; i < lines.length - 1; i++) {
            if (lines[i].contains("This is your generated password:")) {
                for (int j = i + 1; j < lines.length; j++) {
                    if (!lines[j].isBlank() && !lines[j].contains("<")) {
                        return lines[j].trim();
                    }
                }
            }
        }
        return null;
    }

    @Override
    public void close() {
        services.values().forEach(service -> service.stop(STOP_GRACE));
        smtpRelay.close();
        databaseRelay.close();
        if (nats != null) {
            natsRelay.close();
            natsRelay2.close();
            nats.close();
        }
        smtp.stop();
        database.close();
        traces.close();
    }

    /** auth-service's signing key, written where AUTH_SIGNING_KEY_LOCATION points as a PKCS#8 PEM file. */
    private Path writeSigningKey() {
        signingKey = JwtForgery.rsaKey("system");
        Path file = workDir.resolve("keys/signing-key.pem");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, JwtForgery.pem("PRIVATE KEY", signingKey.getPrivateKey().getEncoded()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private Path jar(String module) {
        return root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    }


    /** The Node.js clients the system tests drive (the phoenix npm client, its Presence, the browser test). */
    static Path nodeClients() {
        return repositoryRoot().resolve("gateway/system-tests/src/test/node");
    }

    /**
     * The node clients' directory with their npm packages (phoenix, playwright-core) installed: {@code npm ci} if a
     * completed install is not there yet (npm writes {@code node_modules/.package-lock.json} last), under a file lock,
     * since the two passes run side by side and {@code npm ci} starts by deleting {@code node_modules}. (.ci/run
     * installs them before the build; this is for {@code ./mvnw verify} on a fresh clone.)
     */
    static Path installedNodeClients() throws IOException, InterruptedException {
        Path dir = nodeClients();
        try (FileChannel lockFile = FileChannel.open(dir.resolve(".npm-ci.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = lockFile.lock()) {
            if (!Files.exists(dir.resolve("node_modules/.package-lock.json"))) {
                Process npm = new ProcessBuilder("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund")
                        .directory(dir.toFile()).redirectErrorStream(true).start();
                String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(npm.waitFor(300, TimeUnit.SECONDS) && npm.exitValue() == 0).as("npm ci: %s", output).isTrue();
            }
        }
        return dir;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("gateway")) ) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("run from within the repository");
        }
        return dir;
    }


    private static String randomToken() {
        byte[] bytes = new byte[32];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** A registered user and the password the welcome email brought. */
    public record TestUser(long id, String email, String password) {
    }
}
