package io.companychat.auth.support;

import static io.restassured.RestAssured.given;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * The packaged auth-service ({@code target/quarkus-app}, prod profile) as a process of its own, configured the way ops
 * configure it: environment variables only (the machine's {@code PG*} and {@code QUARKUS_*} variables are not passed
 * on). Its output goes to {@code target/<name>.log}.
 */
public final class PackagedAuthService implements AutoCloseable {

    public static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final int port;
    private final Path log;

    private PackagedAuthService(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts it with {@code env} besides its HTTP port, a generated signing key and a service credential. */
    public static PackagedAuthService start(String name, Map<String, String> env) throws IOException {
        int port = freePort();
        Path log = Path.of("target", name + ".log");
        ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // C1 only, as every service a test starts (common's ServiceProcess says why)
                "-XX:TieredStopAtLevel=1", "-Dauth.keys.generate-if-missing=true", "-jar", JAR.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(key -> key.startsWith("PG") || key.startsWith("QUARKUS_"));
        environment.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        environment.put("INTERNAL_SERVICE_TOKEN", "packaged-auth-service-test");
        environment.putAll(env);
        return new PackagedAuthService(builder.start(), port, log);
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public Path log() {
        return log;
    }

    /** The status of {@code /q/health/ready}, -1 while nothing listens. */
    public int readyStatus() {
        try {
            return given().baseUri(url()).get("/q/health/ready").statusCode();
        } catch (Exception notListeningYet) {
            return -1;
        }
    }

    public void awaitReady() throws IOException, InterruptedException {
        awaitStatus(status -> status == 200, "ready");
    }

    public void awaitListening() throws IOException, InterruptedException {
        awaitStatus(status -> status > 0, "listening");
    }

    /** The exit code, once it exited by itself within the start timeout. */
    public int awaitExit() throws IOException, InterruptedException {
        if (!process.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("auth-service still running after " + START_TIMEOUT.toSeconds() + " s; log:\n" + Files.readString(log));
        }
        return process.exitValue();
    }

    private void awaitStatus(IntPredicate wanted, String what) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new AssertionError("auth-service exited with " + process.exitValue() + " before it was " + what + "; log:\n"
                        + Files.readString(log));
            }
            if (wanted.test(readyStatus())) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("auth-service not " + what + " within " + START_TIMEOUT.toSeconds() + " s; log in " + log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
