package io.companychat.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.companychat.gateway.error.ErrorResponses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * One client connection's request head timeout (see {@link RequestHeadTimeouts}). Two handlers share it: one first in
 * the pipeline sees the raw bytes (a head starts: with the connection, or with the first byte after a request's
 * end), one behind Vert.x's HTTP codec sees the decoded requests (the head is whole) and the answers going out (so
 * that a 408 never cuts into an answer still being written). At most one timer per connection is pending, and it is
 * not re-armed for every request: when it fires it looks at how long the current head has been arriving.
 */
final class RequestHeadWatch {

    static final String RAW = "companychat-head-watch";
    static final String REQUESTS = "companychat-head-watch-requests";
    private static final byte[] TIMEOUT_ANSWER = timeoutAnswer();

    private enum State { AWAITING_HEAD, IN_REQUEST, BETWEEN_REQUESTS }

    private final long timeoutNanos;
    private State state = State.AWAITING_HEAD;
    private long headStartedNanos;
    /** Requests read whose answer has not been written to its end. */
    private int unanswered;
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext rawContext;
    private boolean requestsWatched;

    private RequestHeadWatch(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    static void addTo(ChannelPipeline pipeline, long timeoutNanos) {
        pipeline.addFirst(RAW, new RequestHeadWatch(timeoutNanos).new Raw());
    }

    static void remove(ChannelPipeline pipeline) {
        if (pipeline.get(RAW) instanceof Raw raw) {
            pipeline.remove(raw);
            raw.watch().cancelTimer();
        }
        if (pipeline.get(REQUESTS) != null) {
            pipeline.remove(REQUESTS);
        }
    }

    private void headStarts(ChannelHandlerContext ctx) {
        state = State.AWAITING_HEAD;
        headStartedNanos = System.nanoTime();
        if (timer == null) {
            timer = ctx.executor().schedule(this::check, timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void check() {
        timer = null;
        if (state != State.AWAITING_HEAD || !rawContext.channel().isActive()) {
            return;
        }
        long left = timeoutNanos - (System.nanoTime() - headStartedNanos);
        if (left > 0) {
            timer = rawContext.executor().schedule(this::check, left, TimeUnit.NANOSECONDS);
        } else if (unanswered == 0) {
            rawContext.writeAndFlush(Unpooled.wrappedBuffer(TIMEOUT_ANSWER)).addListener(ChannelFutureListener.CLOSE);
        } else {
            rawContext.close();
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** Puts the decoded side behind Vert.x's HTTP/1.1 codec once it is there (it is by the time the connection is active). */
    private void watchRequests(ChannelHandlerContext ctx) {
        if (!requestsWatched) {
            ChannelHandlerContext encoder = ctx.pipeline().context(HttpResponseEncoder.class);
            if (encoder != null) {
                ctx.pipeline().addAfter(encoder.name(), REQUESTS, new Requests());
                requestsWatched = true;
            }
        }
    }

    private static byte[] timeoutAnswer() {
        byte[] body = ErrorResponses.body("request head not received in time").getBytes();
        String head = "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: " + body.length
                + "\r\nconnection: close\r\n\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        byte[] answer = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, answer, 0, headBytes.length);
        System.arraycopy(body, 0, answer, headBytes.length, body.length);
        return answer;
    }

    /** First in the pipeline: the bytes as they arrive. */
    private final class Raw extends ChannelInboundHandlerAdapter {

        RequestHeadWatch watch() {
            return RequestHeadWatch.this;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            rawContext = ctx;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            watchRequests(ctx);
            headStarts(ctx);
            super.channelActive(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            watchRequests(ctx);
            if (state == State.BETWEEN_REQUESTS && msg instanceof ByteBuf bytes && bytes.isReadable()) {
                headStarts(ctx);
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            cancelTimer();
            super.channelInactive(ctx);
        }
    }

    /** Behind Vert.x's HTTP codec: whole request heads in, answers out. */
    private final class Requests extends ChannelDuplexHandler {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpObject) {
                if (msg instanceof HttpRequest) {
                    state = State.IN_REQUEST;
                    unanswered++;
                }
                if (msg instanceof LastHttpContent && state == State.IN_REQUEST) {
                    state = State.BETWEEN_REQUESTS;
                }
            } else {
                // no longer HTTP requests (an upgrade): nothing more to watch
                remove(ctx.pipeline());
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof LastHttpContent && unanswered > 0) {
                unanswered--;
            }
            ctx.write(msg, promise);
        }
    }
}
