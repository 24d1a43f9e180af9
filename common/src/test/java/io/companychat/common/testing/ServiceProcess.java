package io.companychat.common.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

import org.awaitility.Awaitility;

/**
 * One service run as a real process from its packaged jar (what the container images run), with its log captured to
 * a file: the one launcher of the tests that need real processes (the system tests, user-service's two replicas,
 * auth-service's migration-role and database-TLS tests). Configured the way ops configure a service: environment
 * variables only, and only the test's: the machine's {@code PG*} and {@code QUARKUS_*} variables are not passed on.
 */
public final class ServiceProcess implements AutoCloseable {

    /** A module's own packaged jar, relative to the module (the working directory of its tests). */
    public static final Path MODULE_JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(20);

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final String name;
    private final Path jar;
    private final Map<String, String> environment;
    private final int port;
    private final String readinessUrl;
    private final Path log;
    private final Duration startLimit;
    private Process process;

    /**
     * A service on {@code port} (given to it as QUARKUS_HTTP_PORT, with {@code environment}), ready when
     * {@code readinessUrl} answers 200, which it must within {@code startLimit} of each start.
     */
    public ServiceProcess(String name, Path jar, Map<String, String> environment, int port, String readinessUrl, Path log,
            Duration startLimit) {
        this.name = name;
        this.jar = jar;
        this.environment = new HashMap<>(environment);
        this.environment.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        this.port = port;
        this.readinessUrl = readinessUrl;
        this.log = log;
        this.startLimit = startLimit;
    }

    /**
     * The module's own packaged jar ({@link #MODULE_JAR}) on a free port, ready when {@code /q/health/ready} answers
     * 200, logging to {@code target/<name>.log}.
     */
    public static ServiceProcess ofModule(String name, Map<String, String> environment, Duration startLimit) {
        int port = freePort();
        return new ServiceProcess(name, MODULE_JAR, environment, port, "http://127.0.0.1:" + port + "/q/health/ready",
                Path.of("target", name + ".log"), startLimit);
    }

    /**
     * A port free right now, below Linux's ephemeral range (32768–60999), and reserved for this JVM's life against
     * every other test JVM of the machine. A port the kernel hands out for {@code bind(0)} comes from that range, from
     * which every outgoing connection also takes its local port: between the choice and the service's own bind, a
     * connection of another process (the other system-test pass, a pool) could take it ("Address already in use" at a
     * service's start, seen once in CI). Ports below it are only taken by a bind, which the check here sees, but a
     * service starts seconds after its port is chosen, and the test JVMs running side by side (the two system-test
     * passes, the modules' own tests) choose theirs at random from one range, and in that window two of them can choose
     * the same port (2026-12-07 in CI: a chat-service found its port in use at its start; nothing else binds in that
     * range, so most likely the other pass's). So a port is
     * taken only if this JVM can also lock its file in {@link #PORT_LOCKS}, and the lock is kept until the JVM exits
     * (the system releases it when the process ends, however it ends).
     */
    public static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(20_000, 32_000);
            try (ServerSocket socket = new ServerSocket(port, 1)) {
                if (reserve(port)) {
                    return port;
                }
            } catch (IOException taken) {
                // in use: another
            }
        }
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the test JVMs lock the ports they chose; one empty file per port ever chosen (a few hundred per build). */
    static final Path PORT_LOCKS = Path.of(System.getProperty("java.io.tmpdir"), "companychat-test-ports");
    /** The channels holding this JVM's port locks: open until the JVM exits. */
    private static final List<FileChannel> RESERVED = new ArrayList<>();

    /** Whether this JVM now holds {@code port}'s lock (false if another JVM holds it, or this one already did). */
    static synchronized boolean reserve(int port) {
        try {
            Files.createDirectories(PORT_LOCKS);
            FileChannel channel = FileChannel.open(PORT_LOCKS.resolve(port + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException mine) {
                lock = null;
            }
            if (lock == null) {
                channel.close();
                return false;
            }
            RESERVED.add(channel);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return port;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    public Path log() {
        return log;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Starts the process; {@link #awaitReady} waits for it. */
    public void start() {
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: package the services first (./mvnw package)");
        }
        // C1 only, as the test JVMs run (root pom): a test's service lives for seconds to minutes and C2 would spend
        // most of its compile time on code it never runs again; with a dozen services starting side by side on two
        // cores that is what makes a system start slow. Behaviour is the same at any compilation level.
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-jar", jar.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().keySet().removeIf(key -> key.startsWith("PG") || key.startsWith("QUARKUS_"));
        builder.environment().putAll(environment);
        try {
            Files.createDirectories(log.getParent());
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name, e);
        }
    }

    /** Waits until the process is ready; fails at once if it exits instead. */
    public void awaitReady() {
        awaitReadiness("ready", status -> status == 200);
    }

    /** Waits until the process answers its readiness URL at all (ready or not); fails at once if it exits instead. */
    public void awaitListening() {
        awaitReadiness("listening", status -> status > 0);
    }

    private void awaitReadiness(String what, IntPredicate wanted) {
        Awaitility.await(name + " " + what + " (log: " + log + ")").atMost(startLimit).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log);
                    }
                    return wanted.test(readinessStatus());
                });
    }

    public boolean isReady() {
        return readinessStatus() == 200;
    }

    /** The status its readiness URL answers now, -1 while nothing answers. */
    public int readinessStatus() {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(readinessUrl)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** SIGTERM, then SIGKILL if it has not exited within {@code grace}; returns the exit code. */
    public int stop(Duration grace) {
        if (process == null) {
            return -1;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return -1;
        }
    }

    /** SIGTERM, then SIGKILL if it has not exited within 20 s. */
    @Override
    public void close() {
        stop(CLOSE_GRACE);
    }

    /** SIGTERM, without waiting: the process begins its graceful shutdown. */
    public void terminate() {
        process.destroy();
    }

    /** Waits up to {@code limit} for the process to exit; whether it did. */
    public boolean awaitExit(Duration limit) {
        try {
            return process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The exit code of the process, which must have exited. */
    public int exitValue() {
        return process.exitValue();
    }

    /** Starts the process again (after a stop or kill) and waits until it is ready. */
    public void restart() {
        if (isAlive()) {
            throw new IllegalStateException(name + " is still running");
        }
        start();
        awaitReady();
    }

    /** SIGKILL: the process gets no chance to clean up. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** A deliberate pause (a head start, a scenario's length), never a wait for something that can be awaited. */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
