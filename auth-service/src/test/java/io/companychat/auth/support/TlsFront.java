package io.companychat.auth.support;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A TLS-terminating front for a PostgreSQL without TLS (the local one), speaking the protocol's own TLS negotiation:
 * the client sends an 8-byte SSLRequest, the front answers {@code S}, does the TLS handshake with the key and
 * certificate chain of its key store, reads the client's startup message (recording its parameters: user, database,
 * {@code application_name}) and from then on pipes plaintext to the real server. A connection that starts without an
 * SSLRequest (plaintext) is counted and closed; a GSSENCRequest is declined ({@code N}) as PostgreSQL does without
 * GSSAPI. Real sockets and a real server: what a client does here, it does against a TLS-enabled PostgreSQL.
 */
public final class TlsFront implements AutoCloseable {

    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;

    private final ServerSocket server;
    private final SSLContext tls;
    private final String upstreamHost;
    private final int upstreamPort;
    private final List<Map<String, String>> encryptedStartups = new CopyOnWriteArrayList<>();
    private final List<String> plaintextStarts = new CopyOnWriteArrayList<>();
    private final List<String> failedHandshakes = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private TlsFront(Path keyStore, String password, String upstreamHost, int upstreamPort) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, password.toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password.toCharArray());
        tls = SSLContext.getInstance("TLS");
        tls.init(keys.getKeyManagers(), null, null);
        this.upstreamHost = upstreamHost;
        this.upstreamPort = upstreamPort;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tls-front-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Listens on a free loopback port with the key and chain of {@code keyStore} (PKCS12). */
    public static TlsFront start(Path keyStore, String password, String upstreamHost, int upstreamPort) throws Exception {
        return new TlsFront(keyStore, password, upstreamHost, upstreamPort);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** The startup parameters of every connection that came through TLS. */
    public List<Map<String, String>> encryptedStartups() {
        return List.copyOf(encryptedStartups);
    }

    /** The first message of every connection that did not ask for TLS. */
    public List<String> plaintextStarts() {
        return List.copyOf(plaintextStarts);
    }

    /** Why each failed TLS handshake failed (e.g. the client refused the certificate). */
    public List<String> failedHandshakes() {
        return List.copyOf(failedHandshakes);
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                open.add(client);
                Thread thread = new Thread(() -> serve(client), "tls-front-conn");
                thread.setDaemon(true);
                thread.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket client) {
        try {
            DataInputStream in = new DataInputStream(client.getInputStream());
            int length = in.readInt();
            int code = in.readInt();
            if (length == 8 && code == GSSENC_REQUEST) {
                client.getOutputStream().write('N');
                client.getOutputStream().flush();
                length = in.readInt();
                code = in.readInt();
            }
            if (length != 8 || code != SSL_REQUEST) {
                plaintextStarts.add("length " + length + ", code " + code);
                client.close();
                return;
            }
            client.getOutputStream().write('S');
            client.getOutputStream().flush();
            SSLSocket secure = (SSLSocket) tls.getSocketFactory().createSocket(client, upstreamHost, client.getPort(), true);
            open.add(secure);
            secure.setUseClientMode(false);
            try {
                secure.startHandshake();
            } catch (IOException e) {
                failedHandshakes.add(String.valueOf(e.getMessage()));
                secure.close();
                return;
            }
            DataInputStream plain = new DataInputStream(secure.getInputStream());
            byte[] startup;
            try {
                int startupLength = plain.readInt();
                startup = new byte[startupLength];
                ByteBuffer.wrap(startup).putInt(startupLength);
                plain.readFully(startup, 4, startupLength - 4);
            } catch (IOException e) {
                // the client gave up after the handshake: it did not accept the certificate (some report it this way)
                failedHandshakes.add("closed after the handshake: " + e.getMessage());
                secure.close();
                return;
            }
            encryptedStartups.add(parameters(startup));
            Socket upstream = new Socket(upstreamHost, upstreamPort);
            open.add(upstream);
            upstream.getOutputStream().write(startup);
            upstream.getOutputStream().flush();
            pipe(upstream.getInputStream(), secure.getOutputStream(), secure, upstream);
            pipe(secure.getInputStream(), upstream.getOutputStream(), secure, upstream);
        } catch (IOException e) {
            closeQuietly(client);
        }
    }

    /** Key/value pairs after the protocol version of a startup message. */
    private static Map<String, String> parameters(byte[] startup) {
        Map<String, String> parameters = new HashMap<>();
        int i = 8;
        while (i < startup.length && startup[i] != 0) {
            int keyEnd = indexOfZero(startup, i);
            int valueEnd = indexOfZero(startup, keyEnd + 1);
            parameters.put(new String(startup, i, keyEnd - i, StandardCharsets.UTF_8),
                    new String(startup, keyEnd + 1, valueEnd - keyEnd - 1, StandardCharsets.UTF_8));
            i = valueEnd + 1;
        }
        return parameters;
    }

    private static int indexOfZero(byte[] bytes, int from) {
        int i = from;
        while (bytes[i] != 0) {
            i++;
        }
        return i;
    }

    private static void pipe(InputStream from, OutputStream to, Socket a, Socket b) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try {
                for (int n; (n = from.read(buffer)) >= 0;) {
                    to.write(buffer, 0, n);
                    to.flush();
                }
            } catch (IOException e) {
                // one side went away: close both
            } finally {
                closeQuietly(a);
                closeQuietly(b);
            }
        }, "tls-front-pipe");
        thread.setDaemon(true);
        thread.start();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        open.forEach(TlsFront::closeQuietly);
    }
}
