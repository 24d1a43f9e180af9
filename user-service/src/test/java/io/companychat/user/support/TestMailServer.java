package io.companychat.user.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.awaitility.Awaitility;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;

import io.companychat.common.testing.ServiceProcess;

/**
 * A real SMTP server (GreenMail) on a fixed loopback port for the whole run. Tests can take it
 * down and bring it back on the same port; what it received before a restart is kept, so counts
 * span restarts.
 */
public final class TestMailServer {

    private final int port;
    private final List<ReceivedMail> beforeRestarts = new ArrayList<>();
    private GreenMail server;

    private TestMailServer(int port) {
        this.port = port;
    }

    public static TestMailServer startOnFreePort() {
        TestMailServer mailServer = new TestMailServer(ServiceProcess.freePort());
        mailServer.start();
        return mailServer;
    }

    public int port() {
        return port;
    }

    public synchronized boolean isRunning() {
        return server != null;
    }

    public synchronized void start() {
        if (server != null) {
            return;
        }
        GreenMail greenMail = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP))
                .withConfiguration(GreenMailConfiguration.aConfig().withDisabledAuthentication());
        greenMail.start();
        server = greenMail;
    }

    /** Takes the server away: connections are refused until {@link #start()}. */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        beforeRestarts.addAll(current());
        server.stop();
        server = null;
    }

    /** Every mail received for this address so far, in arrival order. */
    public synchronized List<ReceivedMail> mailsTo(String address) {
        List<ReceivedMail> all = new ArrayList<>(beforeRestarts);
        all.addAll(current());
        return all.stream().filter(mail -> mail.to().equalsIgnoreCase(address)).toList();
    }

    /** Waits until at least {@code count} mails for the address arrived; returns them all. */
    public List<ReceivedMail> awaitMailsTo(String address, int count, Duration timeout) {
        return Awaitility.await(count + " mail(s) to " + address).atMost(timeout).pollInterval(Duration.ofMillis(100))
                .until(() -> mailsTo(address), mails -> mails.size() >= count);
    }

    public synchronized void close() {
        if (server != null) {
            server.stop();
            server = null;
        }
    }

    private List<ReceivedMail> current() {
        if (server == null) {
            return List.of();
        }
        return Arrays.stream(server.getReceivedMessages()).map(ReceivedMail::of).toList();
    }

}
