package io.companychat.gateway.proxy;

import java.util.concurrent.TimeUnit;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;

/**
 * How one side of a tunnel is closed when the other has closed: after the bytes queued for it are written, so that
 * the other side's last frames (its close frame among them) reach a peer that reads slowly, as they would have without
 * the gateway. A peer that takes none of them for a while, or has not taken them all by a deadline, is closed under
 * them: a closed tunnel's queue (up to the kernel's receive buffer, which Netty reads whole when a connection ends) is
 * not held for a client that does not read, nor, a byte at a time, for one that reads as slowly as it can (a closing
 * tunnel no longer counts against {@code gateway.max-sockets}). Vert.x's own close also writes what is queued first,
 * but waits for it however long it takes.
 */
final class Closing {

    private Closing() {
    }

    /**
     * Closes {@code channel} once what is queued for it is written, as soon as {@code stallMillis} pass without any of
     * it being written, or {@code maxMillis} from now at the latest. On the channel's event loop.
     */
    static void whenWritten(Channel channel, long stallMillis, long maxMillis) {
        ChannelFuture written = channel.writeAndFlush(Unpooled.EMPTY_BUFFER);
        if (written.isDone()) {
            channel.close();
            return;
        }
        written.addListener(done -> channel.close());
        closeIfStalled(channel, Long.MAX_VALUE, stallMillis, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis));
    }

    /** Closes {@code channel} unless its queue has shrunk below {@code pendingBefore} and time is left; else looks again. */
    private static void closeIfStalled(Channel channel, long pendingBefore, long stallMillis, long deadlineNanos) {
        ChannelOutboundBuffer queue = channel.unsafe().outboundBuffer();
        if (queue == null) {
            return; // closed
        }
        long pending = queue.totalPendingWriteBytes();
        long leftNanos = deadlineNanos - System.nanoTime();
        if (pending >= pendingBefore || leftNanos <= 0) {
            channel.close();
        } else {
            long nextNanos = Math.min(TimeUnit.MILLISECONDS.toNanos(stallMillis), leftNanos);
            channel.eventLoop().schedule(() -> closeIfStalled(channel, pending, stallMillis, deadlineNanos), nextNanos,
                    TimeUnit.NANOSECONDS);
        }
    }
}
