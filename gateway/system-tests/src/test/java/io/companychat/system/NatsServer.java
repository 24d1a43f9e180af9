package io.companychat.system;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.opentest4j.TestAbortedException;

import io.companychat.common.testing.ServiceProcess;

/**
 * A {@code nats-server} of the system tests' own ({@code system.bus=nats}), on a free port, so that a test can
 * kill and restart it without touching the machine's NATS. Started from the {@code nats-server} on the PATH (or
 * Debian's {@code /usr/sbin/nats-server}); where there is none, the tests that need it are skipped with the reason.
 */
final class NatsServer implements AutoCloseable {

    private static final Duration START_LIMIT = Duration.ofSeconds(20);

    private final Path executable;
    private final Path log;
    private final int port;
    private Process process;

    private NatsServer(Path executable, Path log) {
        this.executable = executable;
        this.log = log;
        this.port = ServiceProcess.freePort();
    }

    /** The {@code nats-server} on the PATH or in {@code /usr/sbin}, {@code /usr/local/sbin} (Debian's), if any. */
    static Optional<Path> executable() {
        return Stream.concat(
                Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)).map(Path::of),
                Stream.of(Path.of("/usr/sbin"), Path.of("/usr/local/sbin")))
                .map(dir -> dir.resolve("nats-server")).filter(Files::isExecutable).findFirst();
    }

    static NatsServer start(Path log) {
        Path executable = executable()
                .orElseThrow(() -> new TestAbortedException(
                        "system.bus=nats needs a nats-server executable (Debian: apt-get install nats-server); none found"));
        NatsServer server = new NatsServer(executable, log);
        server.restart();
        return server;
    }

    int port() {
        return port;
    }

    /** Starts the server (again) on its port and waits until it accepts connections. */
    synchronized void restart() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("nats-server is running");
        }
        try {
            Files.createDirectories(log.getParent());
            process = new ProcessBuilder(List.of(executable.toString(), "-a", "127.0.0.1", "-p", Integer.toString(port)))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("nats-server could not be started", e);
        }
        Awaitility.await("nats-server on port " + port).atMost(START_LIMIT).pollInterval(Duration.ofMillis(50))
                .until(this::answers);
    }

    /** Kills the server at once (SIGKILL): every connection drops, nothing is said to the clients. */
    synchronized void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean answers() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        kill();
    }
}
