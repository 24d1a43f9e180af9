package io.companychat.gateway.support;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetSocket;

/**
 * chat-service's WebSocket written byte by byte, to cut a frame in two: once the client sends anything, it writes a
 * short text frame ({@link #FIRST}) and, in the same write, the first half of a long one ({@link #LONG_LENGTH}
 * bytes); {@link #finish()} writes the second half. The service closes the connection when the client's close frame
 * comes.
 * <p>
 * At {@link #FAREWELL_PATH} it writes {@link #FAREWELL_FRAMES} binary frames and a close frame at once and closes the
 * connection (as a service does that ends a socket after its last messages), without waiting for the client.
 */
public final class RawSocket {

    public static final String PATH = "/socket/raw";
    public static final String FIRST = "first";
    public static final int LONG_LENGTH = 10_000;
    public static final char LONG_FILL = 'x';

    public static final String FAREWELL_PATH = "/socket/farewell";
    public static final int FAREWELL_FRAMES = 200;
    public static final int FAREWELL_FRAME_LENGTH = 64 * 1024;
    /** The close frame the farewell ends with: 1000, no reason. */
    public static final byte[] FAREWELL_CLOSE = { (byte) 0x88, 2, 0x03, (byte) 0xE8 };

    private static volatile CompletableFuture<NetSocket> started = new CompletableFuture<>();

    private RawSocket() {
    }

    /** Forgets the previous socket: the next one to start is awaited by {@link #finish()}. */
    public static void reset() {
        started = new CompletableFuture<>();
    }

    /** Writes the rest of the long frame. */
    public static void finish() throws Exception {
        NetSocket socket = started.get(10, java.util.concurrent.TimeUnit.SECONDS);
        byte[] second = new byte[LONG_LENGTH - LONG_LENGTH / 2];
        java.util.Arrays.fill(second, (byte) LONG_FILL);
        socket.write(Buffer.buffer(second));
    }

    static void accept(HttpServerRequest request) {
        CompletableFuture<NetSocket> mine = started;
        switchProtocols(request).onSuccess(socket -> {
            boolean[] begun = { false };
            socket.handler(data -> {
                if (!begun[0]) {
                    begun[0] = true;
                    socket.write(start());
                    mine.complete(socket);
                } else if ((data.getByte(0) & 0x0F) == 0x8) {
                    // the client's close frame (the gateway's close reached it): the service closes, as servers do
                    socket.close();
                }
            });
        });
    }

    /** The farewell: frames of bytes counting up, a close frame, the connection closed once they are written. */
    static void farewell(HttpServerRequest request) {
        switchProtocols(request).onSuccess(socket -> {
            byte[] payload = new byte[FAREWELL_FRAME_LENGTH];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) i;
            }
            for (int i = 0; i < FAREWELL_FRAMES; i++) {
                socket.write(Buffer.buffer().appendByte((byte) 0x82).appendByte((byte) 127).appendLong(FAREWELL_FRAME_LENGTH)
                        .appendBytes(payload));
            }
            socket.write(Buffer.buffer(FAREWELL_CLOSE));
            // Vert.x writes what is queued before it closes
            socket.close();
        });
    }

    private static io.vertx.core.Future<NetSocket> switchProtocols(HttpServerRequest request) {
        String accept = accept(request.getHeader("Sec-WebSocket-Key"));
        request.response().setStatusCode(101).putHeader("Upgrade", "websocket").putHeader("Connection", "Upgrade")
                .putHeader("Sec-WebSocket-Accept", accept);
        return request.toNetSocket();
    }

    /** {@link #FIRST} as a frame of its own, then the head and first half of a {@link #LONG_LENGTH}-byte text frame. */
    private static Buffer start() {
        Buffer data = Buffer.buffer().appendByte((byte) 0x81).appendByte((byte) FIRST.length())
                .appendString(FIRST, "US-ASCII");
        data.appendByte((byte) 0x81).appendByte((byte) 126).appendUnsignedShort(LONG_LENGTH);
        byte[] first = new byte[LONG_LENGTH / 2];
        java.util.Arrays.fill(first, (byte) LONG_FILL);
        return data.appendBytes(first);
    }

    private static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
