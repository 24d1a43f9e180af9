package io.companychat.common.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A WebSocket upgrade written by hand on a plain socket, for what a WebSocket client hides: a refusal's headers (the
 * JDK's and Vert.x's clients keep only the status), a small receive buffer, the bytes after the {@code 101} as they
 * come. The socket is left open after the response head, whatever the status.
 *
 * @param socket the connection, positioned after the response head
 * @param status the response's status code
 * @param headers the response's headers, names in lower case
 */
public record RawUpgrade(Socket socket, int status, Map<String, String> headers) implements AutoCloseable {

    /**
     * Connects to {@code host:port}, sends an upgrade request for {@code target} (path and query) and reads the
     * response head.
     *
     * @param receiveBuffer the socket's receive buffer in bytes, set before connecting; 0 leaves the system's
     */
    public static RawUpgrade open(String host, int port, String target, int receiveBuffer, Duration readTimeout)
            throws IOException {
        return open(host, port, target, Map.of(), receiveBuffer, readTimeout);
    }

    /** As {@link #open(String, int, String, int, Duration)}, with {@code headers} added to the request. */
    public static RawUpgrade open(String host, int port, String target, Map<String, String> headers, int receiveBuffer,
            Duration readTimeout) throws IOException {
        StringBuilder extra = new StringBuilder();
        headers.forEach((name, value) -> extra.append(name).append(": ").append(value).append("\r\n"));
        Socket socket = new Socket();
        try {
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.setSoTimeout((int) readTimeout.toMillis());
            socket.connect(new InetSocketAddress(host, port), (int) readTimeout.toMillis());
            socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n" + extra + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return read(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** The response head, byte by byte so that nothing after it is consumed. */
    private static RawUpgrade read(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the upgrade's response head, so far: " + head);
            }
            head.write(b);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        if (!lines[0].startsWith("HTTP/1.1 ") || lines[0].length() < 12) {
            throw new IOException("not an HTTP/1.1 status line: " + lines[0]);
        }
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        return new RawUpgrade(socket, Integer.parseInt(lines[0].substring(9, 12)), Collections.unmodifiableMap(headers));
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
