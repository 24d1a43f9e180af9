package io.companychat.common.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.UUID;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A uniquely named database for one test run, on the PostgreSQL at PGHOST/PGPORT, or, where
 * none answers, on an embedded PostgreSQL (real binaries from Maven Central) started once per JVM.
 */
public final class TestDatabase implements AutoCloseable {

    private static EmbeddedPostgres embedded;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String name;

    private TestDatabase(String host, int port, String user, String password, String name) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.name = name;
    }

    /** Creates {@code chat_test_<random>} on the first server that answers. */
    public static TestDatabase create() {
        String host = env("PGHOST", "localhost");
        int port = Integer.parseInt(env("PGPORT", "5432"));
        String user = env("PGUSER", "postgres");
        String password = env("PGPASSWORD", "");
        if (!answers(host, port, user, password)) {
            EmbeddedPostgres server = embeddedServer();
            host = "localhost";
            port = server.getPort();
            user = "postgres";
            password = "";
        }
        String name = "chat_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        TestDatabase database = new TestDatabase(host, port, user, password, name);
        database.executeOnServer("CREATE DATABASE " + name);
        return database;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public String name() {
        return name;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + name;
    }

    /** A JDBC connection to this test database, for checks that look under the API. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), properties(user, password));
    }

    @Override
    public void close() {
        executeOnServer("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private void executeOnServer(String sql) {
        String url = "jdbc:postgresql://" + host + ":" + port + "/postgres";
        try (Connection connection = DriverManager.getConnection(url, properties(user, password));
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("Could not run '" + sql + "' on " + url, e);
        }
    }

    private static boolean answers(String host, int port, String user, String password) {
        Properties props = properties(user, password);
        props.setProperty("connectTimeout", "3");
        try (Connection ignored = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", props)) {
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private static synchronized EmbeddedPostgres embeddedServer() {
        if (embedded == null) {
            try {
                embedded = EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new UncheckedIOException("No PostgreSQL at PGHOST/PGPORT and the embedded one did not start", e);
            }
            EmbeddedPostgres started = embedded;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    started.close();
                } catch (IOException ignored) {
                    // the JVM is going away; the temporary data directory goes with it
                }
            }));
        }
        return embedded;
    }

    private static Properties properties(String user, String password) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (!password.isEmpty()) {
            props.setProperty("password", password);
        }
        return props;
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
