package io.companychat.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * How a tunnel's side is closed once the other side has closed ({@link Closing}), on real TCP connections whose
 * kernel buffers are made small, so that most of what is written waits in the channel's own queue: a peer that reads
 * gets every byte, however slowly it reads (within the deadline); a peer that reads nothing is closed under the queue
 * once it has taken nothing for the stall time, and one that reads too slowly at the deadline.
 */
class ClosingTest {

    private static final int QUEUED = 1024 * 1024;
    private static final long STALL_MILLIS = 1000;
    private static final long NO_DEADLINE = 60_000;

    private EventLoopGroup loop;
    private ServerSocket server;
    private Socket peer;
    private Channel channel;

    @BeforeEach
    void connect() throws Exception {
        loop = new NioEventLoopGroup(1);
        server = new ServerSocket();
        server.setReceiveBufferSize(4096); // inherited by the accepted socket
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        channel = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.SO_SNDBUF, 4096)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(server.getLocalSocketAddress()).sync().channel();
        peer = server.accept();
        peer.setSoTimeout(10_000);
    }

    /** A megabyte for the peer, almost all of it still in the channel's queue when the close is asked for. */
    private void queueAndClose(long maxMillis) throws Exception {
        channel.eventLoop().submit(() -> {
            for (int written = 0; written < QUEUED; written += 64 * 1024) {
                channel.write(Unpooled.wrappedBuffer(new byte[64 * 1024]), channel.voidPromise());
            }
            channel.flush();
            Closing.whenWritten(channel, STALL_MILLIS, maxMillis);
        }).sync();
    }

    @AfterEach
    void close() throws Exception {
        peer.close();
        server.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Much slower in all than the stall time, never stalled for it: the close waits for the last byte. */
    @Test
    void aPeerThatReadsSlowlyGetsEveryByteBeforeTheClose() throws Exception {
        queueAndClose(NO_DEADLINE);
        long received = readSlowly(32 * 1024, 10);
        assertThat(received).as("bytes received before the end of the stream").isEqualTo(QUEUED);
        assertThat(channel.closeFuture().await(1, TimeUnit.SECONDS)).as("channel closed").isTrue();
    }

    @Test
    void aPeerThatReadsNothingIsClosedUnderTheQueueOnceItStalls() throws Exception {
        queueAndClose(NO_DEADLINE);
        long start = System.nanoTime();
        assertThat(channel.closeFuture().await(5 * STALL_MILLIS, TimeUnit.MILLISECONDS))
                .as("channel closed while its peer reads nothing").isTrue();
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(waited).as("ms until the close (the queue is looked at every %d ms)", STALL_MILLIS)
                .isGreaterThanOrEqualTo(STALL_MILLIS / 2);
        long received = 0;
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = peer.getInputStream()) {
            for (int n; (n = in.read(buffer)) >= 0;) {
                received += n;
            }
        } catch (SocketException reset) {
            // the queue's bytes were dropped with the connection
        }
        assertThat(received).as("bytes the peer can still read").isLessThan(QUEUED);
    }

    /** Reading on, 4 KB every 20 ms (a megabyte would take 5 s), never stalled: closed at the deadline. */
    @Test
    void aPeerThatReadsTooSlowlyIsClosedAtTheDeadline() throws Exception {
        long deadlineMillis = 2 * STALL_MILLIS;
        queueAndClose(deadlineMillis);
        long start = System.nanoTime();
        long received;
        try {
            received = readSlowly(4096, 20);
        } catch (SocketException reset) {
            received = -1; // closed under the queue: reset
        }
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(channel.closeFuture().isDone()).as("channel closed").isTrue();
        assertThat(received).as("bytes received before the end of the stream").isLessThan(QUEUED);
        assertThat(waited).as("ms until the end of the stream (deadline %d ms)", deadlineMillis)
                .isBetween(deadlineMillis * 3 / 4, deadlineMillis + 5 * STALL_MILLIS);
    }

    /** Reads to the end of the stream, {@code size} bytes at a time with {@code pauseMillis} between reads. */
    private long readSlowly(int size, long pauseMillis) throws Exception {
        long received = 0;
        InputStream in = peer.getInputStream();
        byte[] buffer = new byte[size];
        for (int n; (n = in.read(buffer)) >= 0;) {
            received += n;
            Thread.sleep(pauseMillis);
        }
        return received;
    }
}
