package io.companychat.auth;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.companychat.auth.support.PackagedAuthService;
import io.companychat.auth.support.TlsFront;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.common.testing.TestDatabase;

/**
 * TLS to PostgreSQL ({@code PGSSLMODE}, {@code PGSSLROOTCERT}), on the packaged auth-service (prod profile), which uses
 * all three kinds of database connection: Flyway's JDBC connection at start, the reactive pool, and the LISTEN
 * connection of the revoked-token list. The local PostgreSQL has no TLS, so a {@link TlsFront} with a certificate
 * for {@code localhost} signed by a CA made here (keytool) stands before it.
 * <ul>
 * <li>{@code verify-full} with that CA: the service becomes ready, and every connection it opened asked for TLS,
 * completed the handshake and only then sent its startup message: the JDBC, reactive and LISTEN ones alike;</li>
 * <li>the same settings before a front whose certificate no CA of ours signed: no connection gets past the handshake
 * and the service never becomes ready.</li>
 * </ul>
 */
class DatabaseTlsIT {

    /** How long the service gets to (fail to) connect to the impostor. */
    private static final Duration REFUSAL_WINDOW = Duration.ofSeconds(4);
    private static final String STORE_PASSWORD = "changeit";
    /**
     * How the three kinds of connection introduce themselves ({@code application_name}): pgjdbc (Flyway) sends none,
     * common's PgNotifications its own, the Vert.x pool Vert.x's default.
     */
    private static final String JDBC_NAME = "(none: pgjdbc)";
    private static final String LISTEN_NAME = "auth-service listen";
    private static final String POOL_NAME = "vertx-pg-client";

    @TempDir
    static Path dir;

    private static TestDatabase database;
    private static Path caPem;
    private static Path serverStore;
    private static Path impostorStore;

    @BeforeAll
    static void certificates() throws Exception {
        assertThat(ServiceProcess.MODULE_JAR).as("the packaged service (mvn package)").exists();
        database = TestDatabase.create();
        // A CA, and a server certificate for localhost it signs; meanwhile a self-signed one for localhost (no CA of ours).
        CompletableFuture<Void> impostor = CompletableFuture.runAsync(() -> keytool("-genkeypair", "-alias", "server",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost",
                "-validity", "2", "-keystore", dir.resolve("impostor.p12").toString()));
        Path caStore = dir.resolve("ca.p12");
        serverStore = dir.resolve("server.p12");
        caPem = dir.resolve("ca.pem");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=company-chat test CA",
                "-ext", "bc:c", "-validity", "2", "-keystore", caStore.toString());
        keytool("-exportcert", "-rfc", "-alias", "ca", "-file", caPem.toString(), "-keystore", caStore.toString());
        keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-validity", "2", "-keystore", serverStore.toString());
        keytool("-certreq", "-alias", "server", "-file", dir.resolve("server.csr").toString(), "-keystore", serverStore.toString());
        keytool("-gencert", "-rfc", "-alias", "ca", "-infile", dir.resolve("server.csr").toString(), "-outfile",
                dir.resolve("server.pem").toString(), "-ext", "SAN=dns:localhost", "-validity", "2", "-keystore", caStore.toString());
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore", serverStore.toString());
        keytool("-importcert", "-alias", "server", "-file", dir.resolve("server.pem").toString(), "-keystore", serverStore.toString());
        impostor.get(60, TimeUnit.SECONDS);
        impostorStore = dir.resolve("impostor.p12");
    }

    @AfterAll
    static void dropDatabase() {
        if (database != null) {
            database.close();
        }
    }

    @Test
    void withVerifyFullEveryConnectionIsEncryptedAndAnotherCasCertificateIsRefused() throws Exception {
        try (TlsFront front = TlsFront.start(serverStore, STORE_PASSWORD, database.host(), database.port())) {
            try (ServiceProcess service = start(front.port(), "ca-signed", Map.of())) {
                service.awaitReady();
            }
            assertThat(front.plaintextStarts()).as("connections that did not ask for TLS").isEmpty();
            assertThat(front.failedHandshakes()).as("failed TLS handshakes with the CA's certificate").isEmpty();
            List<String> names = front.encryptedStartups().stream().map(p -> p.getOrDefault("application_name", JDBC_NAME)).toList();
            assertThat(names).as("application_name of each connection that came through TLS").contains(JDBC_NAME, LISTEN_NAME, POOL_NAME);
        }

        // The schema is there now: without Flyway the reactive pool and the LISTEN connection are what tries.
        try (TlsFront impostor = TlsFront.start(impostorStore, STORE_PASSWORD, database.host(), database.port())) {
            try (ServiceProcess service = start(impostor.port(), "impostor", Map.of("QUARKUS_FLYWAY_MIGRATE_AT_START", "false"))) {
                service.awaitListening();
                Instant end = Instant.now().plus(REFUSAL_WINDOW);
                while (Instant.now().isBefore(end)) {
                    assertThat(service.readinessStatus()).as("readiness before a database whose certificate no CA of ours signed")
                            .isNotEqualTo(200);
                    Thread.sleep(500);
                }
                String health = given().baseUri(service.baseUrl()).get("/q/health/ready").asString();
                assertThat(impostor.failedHandshakes()).as("handshakes refused by the service (health: %s)", health).isNotEmpty();
                assertThat(impostor.encryptedStartups()).as("connections that got past the handshake").isEmpty();
                assertThat(impostor.plaintextStarts()).as("connections that fell back to plaintext").isEmpty();
            }
        }
    }

    /** The packaged auth-service with the database reached through the front, as ops configure it (libpq variables). */
    private static ServiceProcess start(int frontPort, String name, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of(
                "PGHOST", "localhost", // the name in the certificate: verify-full checks it
                "PGPORT", Integer.toString(frontPort),
                "PGDATABASE", database.name(),
                "PGUSER", database.user(),
                "PGPASSWORD", database.password(),
                "PGSSLMODE", "verify-full",
                "PGSSLROOTCERT", caPem.toString()));
        env.putAll(extra);
        return PackagedAuthService.start("database-tls-" + name, env);
    }

    private static void keytool(String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass", STORE_PASSWORD));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            assertThat(process.waitFor()).as("keytool %s: %s", String.join(" ", arguments), output).isZero();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

}
