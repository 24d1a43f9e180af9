package io.companychat.gateway.proxy;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Follows a stream of WebSocket frames (RFC 6455, section 5.2) by their headers alone, to know where one frame
 * ends and the next begins: a frame of its own (a close frame) may be put into the stream only there. Only the
 * second byte of a header and its extended length are looked at; payloads are skipped, never read or copied (a
 * control frame may go between the fragments of a message, section 5.4). Sixteen bytes of state.
 */
final class FrameBoundaries {

    /** Header bytes of the current frame seen so far; 0 between frames and within a payload. */
    private int headerSeen;
    /** The header's second byte (mask bit and 7-bit length), once seen. */
    private int lengthByte;
    /** Within a header: the payload length read so far; within a payload: the bytes of it still to come. */
    private long payloadLeft;

    /** Whether the bytes seen so far end exactly at the end of a frame. */
    boolean atBoundary() {
        return headerSeen == 0 && payloadLeft == 0;
    }

    /**
     * Takes in the next bytes of the stream (the buffer's readable bytes; its indexes are not moved); with
     * {@code stopAtBoundary}, only up to the first end of a frame among them. Returns how many bytes were taken in.
     */
    int advance(ByteBuf data, boolean stopAtBoundary) {
        int start = data.readerIndex();
        int end = data.writerIndex();
        int i = start;
        while (i < end) {
            if (headerSeen == 0 && payloadLeft > 0) {
                int take = (int) Math.min(payloadLeft, end - i);
                i += take;
                payloadLeft -= take;
                if (payloadLeft == 0 && stopAtBoundary) {
                    return i - start;
                }
                continue;
            }
            int b = data.getByte(i++) & 0xFF;
            headerSeen++;
            if (headerSeen == 2) {
                lengthByte = b;
                int length7 = b & 0x7F;
                payloadLeft = length7 < 126 ? length7 : 0;
            } else if (headerSeen > 2 && headerSeen <= 2 + extendedLengthBytes()) {
                payloadLeft = (payloadLeft << 8) | b;
            }
            if (headerSeen >= 2 && headerSeen == headerSize()) {
                headerSeen = 0;
                if (payloadLeft == 0 && stopAtBoundary) {
                    return i - start;
                }
            }
        }
        return i - start;
    }

    private int extendedLengthBytes() {
        int length7 = lengthByte & 0x7F;
        return length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    }

    private int headerSize() {
        return 2 + extendedLengthBytes() + ((lengthByte & 0x80) != 0 ? 4 : 0);
    }

    /** An unmasked close frame, as a server sends it (the reason at most 123 bytes). */
    static ByteBuf closeFrame(ByteBufAllocator allocator, int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        ByteBuf frame = allocator.buffer(4 + text.length);
        frame.writeByte(0x88).writeByte(2 + text.length);
        frame.writeShort(code);
        return frame.writeBytes(text);
    }
}
