package io.companychat.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;

/** Where a close frame may go into a stream of WebSocket frames, however the stream is cut into chunks. */
class FrameBoundariesTest {

    /** A short text frame, a 300-byte one (16-bit length), a masked empty one and a 70000-byte one (64-bit length). */
    private static final Buffer[] FRAMES = { frame(5, false), frame(300, false), frame(0, true), frame(70_000, false) };

    @Test
    void boundariesAreFoundWhereverTheStreamIsCut() {
        Buffer stream = Buffer.buffer();
        int[] ends = new int[FRAMES.length];
        for (int i = 0; i < FRAMES.length; i++) {
            stream.appendBuffer(FRAMES[i]);
            ends[i] = stream.length();
        }
        for (int chunk : new int[] { 1, 2, 3, 7, 64, 1000, stream.length() }) {
            FrameBoundaries boundaries = new FrameBoundaries();
            int next = 0;
            for (int at = 0; at < stream.length(); at += chunk) {
                Buffer part = stream.slice(at, Math.min(stream.length(), at + chunk));
                int offset = 0;
                while (offset < part.length()) {
                    int taken = boundaries.advance(part.slice(offset, part.length()).getByteBuf(), true);
                    offset += taken;
                    if (boundaries.atBoundary()) {
                        assertThat(at + offset).as("frame end with chunks of %d", chunk).isEqualTo(ends[next++]);
                    }
                }
            }
            assertThat(next).as("frames ended with chunks of %d", chunk).isEqualTo(FRAMES.length);
        }
    }

    @Test
    void onlyTheReadableBytesCountAndTheBufferIsLeftAsItWas() {
        ByteBuf data = Unpooled.buffer();
        data.writeBytes(new byte[] { 1, 2, 3 }).writeBytes(FRAMES[0].getByteBuf()).writeBytes(FRAMES[1].getByteBuf());
        data.readerIndex(3);
        FrameBoundaries boundaries = new FrameBoundaries();

        assertThat(boundaries.advance(data, true)).isEqualTo(FRAMES[0].length());
        assertThat(data.readerIndex()).isEqualTo(3);
        assertThat(boundaries.atBoundary()).isTrue();
    }

    @Test
    void midFrameIsNoBoundary() {
        FrameBoundaries boundaries = new FrameBoundaries();
        assertThat(boundaries.atBoundary()).isTrue();
        assertThat(boundaries.advance(FRAMES[1].slice(0, 3).getByteBuf(), false)).isEqualTo(3);
        assertThat(boundaries.atBoundary()).isFalse();
        boundaries.advance(FRAMES[1].slice(3, FRAMES[1].length()).getByteBuf(), false);
        assertThat(boundaries.atBoundary()).isTrue();
    }

    @Test
    void closeFrameCarriesCodeAndReason() {
        ByteBuf frame = FrameBoundaries.closeFrame(ByteBufAllocator.DEFAULT, 1001, "bye");
        Buffer close = Buffer.buffer(frame);
        assertThat(close.getByte(0) & 0xFF).isEqualTo(0x88);
        assertThat(close.getByte(1)).isEqualTo((byte) 5);
        assertThat(close.getUnsignedShort(2)).isEqualTo(1001);
        assertThat(close.getString(4, 7)).isEqualTo("bye");
    }

    private static Buffer frame(int length, boolean masked) {
        Buffer frame = Buffer.buffer().appendByte((byte) 0x81);
        int maskBit = masked ? 0x80 : 0;
        if (length < 126) {
            frame.appendByte((byte) (maskBit | length));
        } else if (length < 65_536) {
            frame.appendByte((byte) (maskBit | 126)).appendUnsignedShort(length);
        } else {
            frame.appendByte((byte) (maskBit | 127)).appendLong(length);
        }
        if (masked) {
            frame.appendInt(0x01020304);
        }
        return frame.appendBytes(new byte[length]);
    }
}
