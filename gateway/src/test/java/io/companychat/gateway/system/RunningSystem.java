package io.companychat.gateway.system;

import static io.restassured.RestAssured.given;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import jakarta.mail.internet.MimeMessage;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;

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
    /** user-service's chat.outbox.lease in the system tests. */
    static final Duration OUTBOX_LEASE = Duration.ofSeconds(30);
    static final Duration STOP_GRACE = Duration.ofSeconds(20);
    /** QUARKUS_SHUTDOWN_TIMEOUT of each service, as in deploy/kubernetes/base/config. */
    static final Map<String, Duration> SHUTDOWN_TIMEOUTS = Map.of(
            "user-service", Duration.ofSeconds(20), "auth-service", Duration.ofSeconds(20),
            "chat-service", Duration.ofSeconds(45), "gateway", Duration.ofSeconds(30));

    private final Path root;
    private final Path workDir;
    private final TestDatabase database;
    private final GreenMail smtp;
    private final TcpRelay databaseRelay;
    private final TcpRelay smtpRelay;
    private final String serviceToken;
    private final Map<String, ServiceProcess> services = new LinkedHashMap<>();
    private Path signingKey;

    private RunningSystem(Path root) {
        this.root = root;
        this.workDir = root.resolve("gateway/target/system-" + UUID.randomUUID().toString().substring(0, 8));
        this.database = TestDatabase.create();
        this.smtp = new GreenMail(new ServerSetup(freePort(), "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        this.smtp.start();
        this.databaseRelay = TcpRelay.start(database.host(), database.port());
        this.smtpRelay = TcpRelay.start("127.0.0.1", smtp.getSmtp().getPort());
        this.serviceToken = randomToken();
    }

    /** Starts everything and waits until every process is ready. */
    public static RunningSystem start() {
        RunningSystem system = new RunningSystem(repositoryRoot());
        try {
            system.launch();
            return system;
        } catch (RuntimeException e) {
            system.close();
            throw e;
        }
    }

    private void launch() {
        signingKey = writeSigningKey();
        int userPort = freePort();
        int authPort = freePort();
        int chatPort = freePort();
        int chatReplicaPort = freePort();
        int gatewayPort = freePort();
        int gatewayManagementPort = freePort();
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

        // As deploy/kubernetes/base/config/*.env set them: how long requests in flight may finish after SIGTERM.
        Map<String, String> chat = new HashMap<>(common);
        chat.put("QUARKUS_SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUTS.get("chat-service").toSeconds() + "s");
        // The fault tests' senders send one message after another as fast as they are answered, and expect every
        // refusal to be the fault's (503); chat-service's MessageRateLimitTest tests the per-user rate.
        chat.put("CHAT_MESSAGE_RATE", "0");
        common.put("QUARKUS_SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUTS.get("user-service").toSeconds() + "s");

        Map<String, String> user = new HashMap<>(common);
        user.put("QUARKUS_MAILER_MOCK", "false");
        user.put("QUARKUS_MAILER_HOST", "127.0.0.1");
        user.put("QUARKUS_MAILER_PORT", Integer.toString(smtpRelay.port()));
        user.put("QUARKUS_MAILER_START_TLS", "DISABLED");
        user.put("QUARKUS_MAILER_TLS", "false");
        // A mail claimed by a killed user-service is due again when its lease ends: 2 min as deployed, shorter
        // here so that UserServiceDownIT need not wait that long (still above the 20 s send timeout).
        user.put("CHAT_OUTBOX_LEASE", OUTBOX_LEASE.toSeconds() + "s");
        Map<String, String> auth = new HashMap<>(common);
        auth.put("AUTH_SIGNING_KEY_LOCATION", signingKey.toString());
        Map<String, String> gateway = new HashMap<>(common);
        gateway.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(gatewayManagementPort));
        gateway.put("QUARKUS_SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUTS.get("gateway").toSeconds() + "s");

        add("user-service", "user-service", user, userPort, "/q/health/ready");
        add("auth-service", "auth-service", auth, authPort, "/q/health/ready");
        add("chat-service", "chat-service", chat, chatPort, "/q/health/ready");
        add("chat-service-2", "chat-service", chat, chatReplicaPort, "/q/health/ready");
        services.put("gateway", new ServiceProcess("gateway", jar("gateway"), withPort(gateway, gatewayPort), gatewayPort,
                "http://127.0.0.1:" + gatewayManagementPort + "/q/health/ready", workDir.resolve("logs/gateway.log")));
        services.values().forEach(ServiceProcess::start);
        services.values().forEach(service -> service.awaitReady(START_LIMIT));
        warmUp();
    }

    /**
     * One registration and login through every hop before the tests begin: on a busy machine the first calls
     * between freshly started services can exceed their timeouts (login then answers 503, as it should), which
     * is not what any test is about.
     */
    private void warmUp() {
        TestUser user = register("Warm");
        Instant deadline = Instant.now().plus(START_LIMIT);
        while (true) {
            int status = given().baseUri(gatewayUrl()).contentType(ContentType.JSON)
                    .body(Map.of("creds", Map.of("email", user.email(), "password", user.password())))
                    .when().post("/api/login").statusCode();
            if (status == 200) {
                return;
            }
            if (status != 503 || Instant.now().isAfter(deadline)) {
                throw new IllegalStateException("warm-up login answered " + status);
            }
            ServiceProcess.sleep(500);
        }
    }

    private void add(String name, String module, Map<String, String> environment, int port, String readinessPath) {
        services.put(name, new ServiceProcess(name, jar(module), withPort(environment, port), port,
                "http://127.0.0.1:" + port + readinessPath, workDir.resolve("logs/" + name + ".log")));
    }

    public String gatewayUrl() {
        return service("gateway").baseUrl();
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
        try {
            return new Tokens(signingKey, kid);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
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
        Instant deadline = Instant.now().plus(limit);
        while (Instant.now().isBefore(deadline)) {
            for (MimeMessage message : smtp.getReceivedMessagesForDomain(email)) {
                String body = GreenMailUtil.getBody(message);
                String password = passwordIn(body);
                if (password != null) {
                    return password;
                }
            }
            ServiceProcess.sleep(100);
        }
        throw new AssertionError("no welcome email for " + email + " within " + limit.toSeconds() + " s");
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
        smtp.stop();
        database.close();
    }

    private Path writeSigningKey() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            byte[] pkcs8 = generator.generateKeyPair().getPrivate().getEncoded();
            String pem = "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                    + "\n-----END PRIVATE KEY-----\n";
            Path file = workDir.resolve("keys/signing-key.pem");
            Files.createDirectories(file.getParent());
            Files.writeString(file, pem);
            return file;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path jar(String module) {
        return root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
    }

    private static Map<String, String> withPort(Map<String, String> environment, int port) {
        Map<String, String> copy = new HashMap<>(environment);
        copy.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        return copy;
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

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
