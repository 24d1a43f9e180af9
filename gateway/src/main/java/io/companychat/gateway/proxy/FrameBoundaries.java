package io.companychat.gateway.proxy;

import java.nio.charset.StandardCharsets;

import io.vertx.core.buffer.Buffer;

/**
 * Follows a stream of WebSocket frames (RFC 6455, section 5.2) by their headers alone, to know where one frame
 * ends and the next begins: a frame of its own (a close frame) may be put into the stream only there. Payloads are
 * skipped, never read; a control frame may go between the fragments of a message (section 5.4).
 */
final class FrameBoundaries {

    private final byte[] header = new byte[14];
    private int headerLength;
    private long payloadLeft;

    /** Whether the bytes seen so far end exactly at the end of a frame. */
    boolean atBoundary() {
        return headerLength == 0 && payloadLeft == 0;
    }

    /**
     * Takes in the next bytes of the stream; with {@code stopAtBoundary}, only up to the first end of a frame
     * among them. Returns how many bytes were taken in.
     */
    int advance(Buffer data, boolean stopAtBoundary) {
        int length = data.length();
        int i = 0;
        while (i < length) {
            if (payloadLeft > 0) {
                int take = (int) Math.min(payloadLeft, length - i);
                i += take;
                payloadLeft -= take;
                if (payloadLeft == 0 && stopAtBoundary) {
                    return i;
                }
                continue;
            }
            header[headerLength++] = data.getByte(i++);
            int size = headerSize();
            if (size > 0 && headerLength == size) {
                payloadLeft = payloadLength();
                headerLength = 0;
                if (payloadLeft == 0 && stopAtBoundary) {
                    return i;
                }
            }
        }
        return length;
    }

    /** The whole header's size once its first two bytes are known, else 0. */
    private int headerSize() {
        if (headerLength < 2) {
            return 0;
        }
        int length7 = header[1] & 0x7F;
        int extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
        int mask = (header[1] & 0x80) != 0 ? 4 : 0;
        return 2 + extended + mask;
    }

    private long payloadLength() {
        int length7 = header[1] & 0x7F;
        if (length7 < 126) {
            return length7;
        }
        int bytes = length7 == 126 ? 2 : 8;
        long length = 0;
        for (int i = 0; i < bytes; i++) {
            length = (length << 8) | (header[2 + i] & 0xFF);
        }
        return length;
    }

    /** An unmasked close frame, as a server sends it. */
    static Buffer closeFrame(int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        Buffer frame = Buffer.buffer(4 + text.length);
        frame.appendByte((byte) 0x88).appendByte((byte) (2 + text.length));
        frame.appendByte((byte) (code >> 8)).appendByte((byte) code);
        return frame.appendBytes(text);
    }
}
