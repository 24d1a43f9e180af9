package io.companychat.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.companychat.auth.support.PackagedAuthService;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.common.testing.TestDatabase;

/**
 * Migrations as a Kubernetes Job (components/migrations), on the packaged auth-service (every service carries the
 * one migration set; the Job runs user-service's image the same way): {@code deploy/database-roles.sql} makes an owner
 * and a DML-only role on a fresh database, then
 * <ol>
 * <li>a service started as the DML-only role before the migrations ran, validating only, exits (Kubernetes restarts it
 * until the Job is done);</li>
 * <li>the Job's command ({@code QUARKUS_INIT_AND_EXIT=true}, migrate at start, as the owner) migrates and exits 0;</li>
 * <li>the service as the DML-only role, validating only, becomes ready;</li>
 * <li>that role can write rows but cannot change the schema.</li>
 * </ol>
 * Needs psql (the roles file is a psql script); skipped without it.
 */
class MigrationRolesIT {

    private static final Path ROLES_SQL = Path.of("..", "deploy", "database-roles.sql");
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 8);
    private static final String DATABASE = "chat_roles_" + SUFFIX;
    private static final String OWNER = "chat_owner_" + SUFFIX;
    private static final String APP = "chat_app_" + SUFFIX;
    /** What the prod overlays set for the services (components/migrations). */
    private static final Map<String, String> VALIDATE_ONLY = Map.of("QUARKUS_FLYWAY_MIGRATE_AT_START", "false",
            "QUARKUS_FLYWAY_VALIDATE_AT_START", "true");

    /** Only for its server's address and administrator: the database here is the roles file's own. */
    private static TestDatabase server;
    private static boolean created;

    @BeforeAll
    static void roles() throws Exception {
        assumeTrue(psqlAvailable(), "psql is not installed");
        assertThat(ServiceProcess.MODULE_JAR).as("the packaged service (mvn package)").exists();
        server = TestDatabase.create();
        created = true;
        psql("postgres", "-v", "database=" + DATABASE, "-v", "owner=" + OWNER, "-v", "app=" + APP,
                "-v", "owner_password=owner-secret", "-v", "app_password=app-secret", "-f", ROLES_SQL.toString());
    }

    @AfterAll
    static void dropEverything() throws Exception {
        if (created) {
            psql("postgres", "-c", "DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)", "-c", "DROP ROLE IF EXISTS " + APP,
                    "-c", "DROP ROLE IF EXISTS " + OWNER);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theJobMigratesAsTheOwnerAndTheServicesStartValidatingAsARoleWithoutDdlRights() throws Exception {
        try (ServiceProcess early = start("migration-roles-early", APP, "app-secret", VALIDATE_ONLY)) {
            assertThat(early.awaitExit(PackagedAuthService.START_LIMIT)).as("a service started as %s before the migrations ran exited by itself; log in %s",
                    APP, early.log()).isTrue();
            assertThat(early.exitValue()).as("its exit code; log in %s", early.log()).isNotZero();
        }

        Map<String, String> job = new HashMap<>(Map.of("QUARKUS_INIT_AND_EXIT", "true", "QUARKUS_FLYWAY_MIGRATE_AT_START", "true"));
        try (ServiceProcess migration = start("migration-roles-job", OWNER, "owner-secret", job)) {
            assertThat(migration.awaitExit(PackagedAuthService.START_LIMIT)).as("the migration Job's command exited by itself; log in %s", migration.log())
                    .isTrue();
            assertThat(migration.exitValue()).as("exit code of the migration Job's command; log:\n%s", migration.logText()).isZero();
        }

        try (ServiceProcess service = start("migration-roles-service", APP, "app-secret", VALIDATE_ONLY)) {
            service.awaitReady();
        }

        try (Connection app = connect(APP, "app-secret"); Statement statement = app.createStatement()) {
            statement.executeUpdate("INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ('" + SUFFIX + "', 1, now() + interval '1 hour')");
            assertThat(statement.executeUpdate("DELETE FROM revoked_tokens WHERE jti = '" + SUFFIX + "'")).isEqualTo(1);
            assertThatThrownBy(() -> statement.execute("CREATE TABLE intruder (id int)")).as("CREATE TABLE as %s", APP)
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> statement.execute("ALTER TABLE revoked_tokens ADD COLUMN intruder int")).as("ALTER TABLE as %s", APP)
                    .isInstanceOf(SQLException.class).hasMessageContaining("must be owner");
            assertThatThrownBy(() -> statement.execute("DROP TABLE flyway_schema_history")).as("DROP TABLE as %s", APP)
                    .isInstanceOf(SQLException.class).hasMessageContaining("must be owner");
        }
    }

    private static ServiceProcess start(String name, String user, String password, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of("PGHOST", server.host(), "PGPORT", Integer.toString(server.port()),
                "PGDATABASE", DATABASE, "PGUSER", user, "PGPASSWORD", password));
        env.putAll(extra);
        return PackagedAuthService.start(name, env);
    }

    private static Connection connect(String user, String password) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        return DriverManager.getConnection("jdbc:postgresql://" + server.host() + ":" + server.port() + "/" + DATABASE, properties);
    }

    private static boolean psqlAvailable() {
        try {
            return new ProcessBuilder("psql", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** psql as the test server's administrator, stopping at the first error. */
    private static void psql(String database, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.host(), "-p",
                Integer.toString(server.port()), "-U", server.user(), "-d", database));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("PGPASSWORD", server.password());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as("psql %s: %s", String.join(" ", arguments), output).isZero();
    }
}
