package io.companychat.common.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on a loopback port in front of a real server. Tests point a service at it and
 * {@link #cut()} it to make the server unreachable (every open connection dropped, new ones
 * refused at once), then {@link #restore()} it; or {@link #silence(int)} one connection, which
 * then stays open but carries nothing any more, as a connection that died without a reset.
 */
public final class TcpRelay implements AutoCloseable {

    private final String targetHost;
    private final int targetPort;
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    /** Relayed connections by the local port of their server-side socket (what the server sees as the client's port). */
    private final Map<Integer, Link> links = new ConcurrentHashMap<>();
    private volatile boolean cut;

    private TcpRelay(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        try {
            this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TcpRelay start(String targetHost, int targetPort) {
        TcpRelay relay = new TcpRelay(targetHost, targetPort);
        daemon("tcp-relay-accept", relay::acceptLoop).start();
        return relay;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Drops every relayed connection and refuses new ones until {@link #restore()}. */
    public void cut() {
        cut = true;
        open.forEach(TcpRelay::closeQuietly);
        open.clear();
    }

    public void restore() {
        cut = false;
    }

    /**
     * The relayed connection whose server-side socket has this local port (PostgreSQL's
     * {@code pg_stat_activity.client_port}) goes silent: it stays open at both ends, but every byte
     * either way is dropped from now on. False if there is no such connection.
     */
    public boolean silence(int serverSidePort) {
        Link link = links.get(serverSidePort);
        if (link == null) {
            return false;
        }
        link.silenced = true;
        return true;
    }

    @Override
    public void close() {
        cut();
        closeQuietly(server);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            if (cut) {
                closeQuietly(client);
                continue;
            }
            try {
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(targetHost, targetPort), 3000);
                open.add(client);
                open.add(upstream);
                Link link = new Link(upstream.getLocalPort());
                links.put(link.serverSidePort, link);
                daemon("tcp-relay-up", () -> pump(client, upstream, link)).start();
                daemon("tcp-relay-down", () -> pump(upstream, client, link)).start();
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to, Link link) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) != -1) {
                if (link.silenced) {
                    continue;
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException ignored) {
            // one side closed: close both below
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
            links.remove(link.serverSidePort, link);
        }
    }

    private static final class Link {
        final int serverSidePort;
        volatile boolean silenced;

        Link(int serverSidePort) {
            this.serverSidePort = serverSidePort;
        }
    }

    private static Thread daemon(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // already closed
        }
    }
}
