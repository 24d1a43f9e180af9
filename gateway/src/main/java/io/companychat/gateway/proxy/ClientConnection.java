package io.companychat.gateway.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.impl.HttpServerRequestInternal;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.NetworkMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.observability.HttpResponse;

/**
 * The client's side of a tunnel once its connection has switched protocols: the Netty handler that takes the
 * connection's channel over from Vert.x.
 * <p>
 * Vert.x writes the 101 and strips its HTTP codec ({@code toNetSocket}); then this handler replaces Vert.x's in the
 * channel's pipeline, so that nothing of Vert.x's server connection stays reachable for the socket's life: its
 * connection, request and response objects, the request line with the token, its inbound queue, the request's
 * context (~3 KB per socket, the largest part of what a tunnel held, see the README's figures). The bookkeeping Vert.x
 * would have done at the close is done here instead, from two references kept: the upgrade request is ended in the
 * HTTP server metrics when it switches (its duration is the upgrade's, and it no longer counts as active), and the
 * connection's sample in the connection metrics is stopped when the channel closes. The tunnel's bytes are not
 * recorded in the bytes-read/written summaries (one record per read and per write, of frames that chat-service
 * counts itself).
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {

    /** The name Vert.x gives its connection's handler in the pipeline. */
    private static final String VERTX_HANDLER = "handler";

    private final ServiceConnection tunnel;
    private final TCPMetrics<Object> metrics;
    private final Object metric;

    private ClientConnection(ServiceConnection tunnel, TCPMetrics<Object> metrics, Object metric) {
        this.tunnel = tunnel;
        this.metrics = metrics;
        this.metric = metric;
    }

    /**
     * Takes the switched connection of {@code upgraded} over from Vert.x for {@code tunnel}, in the task that
     * switched it (so no read came in between). Returns the handler's context on the client channel.
     */
    @SuppressWarnings("unchecked")
    static ChannelHandlerContext takeOver(HttpServerRequest upgraded, NetSocket socket, ServiceConnection tunnel) {
        ConnectionBase vertx = (ConnectionBase) socket;
        NetworkMetrics<?> metrics = vertx.metrics();
        if (metrics instanceof HttpServerMetrics<?, ?, ?> http && upgraded instanceof HttpServerRequestInternal request
                && request.metric() != null) {
            // what Vert.x would report when the socket closes, reported now: the upgrade request is over
            ((HttpServerMetrics<Object, ?, ?>) http).responseEnd(request.metric(), new Switched(upgraded.response()),
                    upgraded.response().bytesWritten());
        }
        ChannelPipeline pipeline = vertx.channel().pipeline();
        // Quarkus's idle timeout (30 min without a byte) is not for sockets: chat-service closes a socket that
        // misses its heartbeats, which closes the tunnel. Nor the request head timeout: no more request heads come.
        IdleStateHandler idle = pipeline.get(IdleStateHandler.class);
        if (idle != null) {
            pipeline.remove(idle);
        }
        RequestHeadTimeouts.stopWatching(pipeline);
        ClientConnection handler = new ClientConnection(tunnel,
                metrics instanceof TCPMetrics<?> tcp ? (TCPMetrics<Object>) tcp : null, vertx.metric());
        pipeline.replace(VERTX_HANDLER, "tunnel", handler);
        return pipeline.context(handler);
    }

    /** The 101 as the metrics read a response (Quarkus's response wrapper is not one). */
    private record Switched(HttpServerResponse response) implements HttpResponse {
        @Override
        public int statusCode() {
            return response.getStatusCode();
        }

        @Override
        public MultiMap headers() {
            return response.headers();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf data) {
            tunnel.fromClient(data);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        tunnel.clientReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            tunnel.clientDrained();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a reset by the client: its connection closes, and so the service's
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (metrics != null) {
            metrics.disconnected(metric, null);
        }
        tunnel.clientClosed();
    }
}
