package io.companychat.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.companychat.gateway.error.ErrorResponses;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.net.NetSocket;

/**
 * One WebSocket tunnel: the gateway's connection to the service (this is its Netty handler) joined to the client's.
 * <p>
 * First the client's upgrade request is written to the service as it came (its own {@code Host}, a
 * {@code Connection} header asking only for the upgrade) and the service's response head is read. Anything but 101
 * is answered to the client with the service's status, its {@code Retry-After} if any, and no body. On 101 the
 * client's connection switches protocols with the service's headers and is taken over from Vert.x
 * ({@link ClientConnection}); from then on both connections run on one event loop and pass each other the buffers
 * they read, written as they are, never copied or decoded. A full write queue on either side stops reading on the other
 * (TCP backpressure), so a slow reader grows neither the gateway's memory nor its queues.
 * <p>
 * Of the service's bytes only the frame headers are looked at ({@link FrameBoundaries}), so that at shutdown the
 * client's close frame goes in between two frames.
 */
final class ServiceConnection extends ChannelInboundHandlerAdapter {

    /** The longest response head accepted from the service. */
    private static final int MAX_HEAD_BYTES = 8192;

    private final SocketTunnels tunnels;
    /** The upgrade request's context, until the client's connection has switched. */
    private ContextInternal context;
    private final String serviceName;
    private final long requestTimeoutMillis;

    // While the upgrade is under way.
    /** The client's upgrade request until it is answered (or, with a 101, handed to the switch). */
    private HttpServerRequest request;
    /** {@code host:port} of the service, until the upgrade is written. */
    private String authority;
    private ByteBuf head;
    private ByteBuf early;
    private ScheduledFuture<?> headTimeout;
    /** The upgrade's client span, until the service has answered (or could not). */
    private Span upgradeSpan;

    // The tunnel.
    private Channel service;
    private ChannelHandlerContext clientContext;
    private final FrameBoundaries serviceFrames = new FrameBoundaries();
    private boolean switching;
    private boolean closeWanted;
    private boolean closeSent;
    private boolean released;
    /** One side has closed: the other is closed once what is queued for it is written. */
    private boolean ending;

    ServiceConnection(SocketTunnels tunnels, HttpServerRequest request, ServiceAddress address, long requestTimeoutMillis,
            Span upgradeSpan) {
        this.tunnels = tunnels;
        this.upgradeSpan = upgradeSpan;
        // the request's context: the client connection's event loop, which the service connection shares
        this.context = (ContextInternal) Vertx.currentContext();
        this.request = request;
        this.authority = address.authority();
        this.serviceName = address.name();
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    // ---------------------------------------------------------------------------------------------
    // The upgrade

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        service = ctx.channel();
        head = ctx.alloc().heapBuffer(256);
        ByteBuf upgrade = ctx.alloc().buffer(1024);
        ByteBufUtil.writeAscii(upgrade, upgradeHead(request, authority));
        authority = null;
        ctx.writeAndFlush(upgrade, ctx.voidPromise());
        headTimeout = ctx.executor().schedule(() -> {
            if (request != null) {
                unavailable();
                ctx.close();
            }
        }, requestTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** The client's request as the service gets it: header bytes as they came (ISO-8859-1), the service's own Host. */
    private static String upgradeHead(HttpServerRequest request, String authority) {
        StringBuilder text = new StringBuilder(1024).append("GET ").append(request.uri()).append(" HTTP/1.1\r\nHost: ")
                .append(authority).append("\r\nConnection: Upgrade\r\n");
        for (Map.Entry<String, String> header : request.headers()) {
            String name = header.getKey();
            if (!HttpHeaders.HOST.toString().equalsIgnoreCase(name) && !HttpHeaders.CONNECTION.toString().equalsIgnoreCase(name)) {
                text.append(name).append(": ").append(header.getValue()).append("\r\n");
            }
        }
        return text.append("\r\n").toString();
    }

    /** The connection could not be made (refused, timed out, unresolvable): 502. */
    void refused() {
        unavailable();
        release();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf data)) {
            ReferenceCountUtil.release(msg);
        } else if (clientContext != null) {
            fromService(data);
        } else if (head != null) {
            head.writeBytes(data);
            data.release();
            readHead(ctx);
        } else if (switching) {
            // After the 101, while the client's connection switches: kept for it.
            early = early == null ? data : Unpooled.wrappedBuffer(early, data);
        } else {
            data.release();
        }
    }

    private void readHead(ChannelHandlerContext ctx) {
        int end = headEnd(head);
        if (end < 0) {
            if (head.readableBytes() > MAX_HEAD_BYTES) {
                unavailable();
                ctx.close();
            }
            return;
        }
        headTimeout.cancel(false);
        headTimeout = null;
        String[] lines = head.toString(head.readerIndex(), end - head.readerIndex(), StandardCharsets.ISO_8859_1).split("\r\n");
        head.readerIndex(end + 4);
        int status = statusCode(lines[0]);
        upgradeAnswered(status);
        if (status < 0) {
            unavailable();
            ctx.close();
        } else if (status != 101) {
            HttpServerRequest refused = request;
            request = null;
            String retryAfter = headerValue(lines, "Retry-After");
            context.emit(v -> {
                refused.resume();
                HttpServerResponse response = refused.response().setStatusCode(status);
                // a full chat replica's 503 (and a 429) says when to come back; the client needs it, nothing else
                if (retryAfter != null) {
                    response.putHeader(HttpHeaders.RETRY_AFTER, retryAfter);
                }
                response.putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
            });
            ctx.close();
        } else {
            if (head.isReadable()) {
                early = head.retain();
            }
            head.release();
            head = null;
            // Nothing more from the service until the client's connection has switched protocols.
            service.config().setAutoRead(false);
            switchProtocols(lines);
        }
    }

    /** The value of the first header {@code name} among the head's lines (after the status line), or null. */
    private static String headerValue(String[] lines, String name) {
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.length() > name.length() && line.charAt(name.length()) == ':' && line.regionMatches(true, 0, name, 0, name.length())) {
                return line.substring(name.length() + 1).trim();
            }
        }
        return null;
    }

    /** Where the empty line that ends the head begins, or -1 while it has not come. */
    private static int headEnd(ByteBuf head) {
        for (int i = head.readerIndex(), last = head.writerIndex() - 4; i <= last; i++) {
            if (head.getByte(i) == '\r' && head.getByte(i + 1) == '\n' && head.getByte(i + 2) == '\r' && head.getByte(i + 3) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** The status of {@code HTTP/1.x NNN reason}, or -1. */
    private static int statusCode(String statusLine) {
        if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12 || statusLine.charAt(8) != ' ') {
            return -1;
        }
        try {
            return Integer.parseInt(statusLine, 9, 12, 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void switchProtocols(String[] lines) {
        HttpServerRequest upgraded = request;
        request = null;
        switching = true;
        context.emit(v -> {
            HttpServerResponse response = upgraded.response();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    response.headers().add(lines[i].substring(0, colon).trim(), lines[i].substring(colon + 1).trim());
                }
            }
            upgraded.resume();
            upgraded.toNetSocket().onComplete(switched -> {
                switching = false;
                if (switched.succeeded() && service.isActive()) {
                    join(upgraded, switched.result());
                } else {
                    if (switched.succeeded()) {
                        switched.result().close();
                    }
                    service.close();
                }
            });
        });
    }

    private void join(HttpServerRequest upgraded, NetSocket socket) {
        // Of the upgrade, nothing is needed any more: neither the request's context (the last emit was the switch)
        // nor, once the connection is taken from Vert.x, anything of its request.
        context = null;
        tunnels.opened(this, upgraded);
        clientContext = ClientConnection.takeOver(upgraded, socket, this);
        if (early != null) {
            ByteBuf data = early;
            early = null;
            fromService(data);
            clientContext.flush();
        }
        if (closeWanted && serviceFrames.atBoundary()) {
            sendClose();
        }
        // each side reads while the other can take what it reads (the service's early bytes may have filled the client)
        clientContext.channel().config().setAutoRead(service.isWritable());
        service.config().setAutoRead(clientContext.channel().isWritable());
    }

    // ---------------------------------------------------------------------------------------------
    // The tunnel

    /** Client to service: the bytes as read, never copied; flushed when the read is complete. */
    void fromClient(ByteBuf data) {
        if (ending) {
            // the service has closed: what the client still sends has nowhere to go
            data.release();
            return;
        }
        service.write(data, service.voidPromise());
        if (!service.isWritable()) {
            // Flushed now, and reading stopped only if that did not drain it: a drain during the flush fires its
            // writability event at once, and reading stopped after it would never resume.
            service.flush();
            if (!service.isWritable()) {
                clientContext.channel().config().setAutoRead(false);
            }
        }
    }

    void clientReadComplete() {
        service.flush();
    }

    /** The client has read what was queued for it: the service's bytes may come again. */
    void clientDrained() {
        service.config().setAutoRead(true);
    }

    void clientClosed() {
        ending = true;
        Closing.whenWritten(service, SocketTunnels.CLOSE_HANDSHAKE_MILLIS, SocketTunnels.CLOSING_MAX_MILLIS);
    }

    /** Service to client: written at once, flushed when the read is complete. */
    private void fromService(ByteBuf data) {
        if (closeSent || ending) {
            // The client has its close frame, after which nothing may follow (the service's own close reply
            // included), or the client is gone.
            data.release();
            return;
        }
        if (!closeWanted) {
            serviceFrames.advance(data, false);
            clientContext.write(data, clientContext.voidPromise());
        } else {
            int end = serviceFrames.atBoundary() ? 0 : serviceFrames.advance(data, true);
            if (end > 0) {
                clientContext.write(data.retainedSlice(data.readerIndex(), end), clientContext.voidPromise());
            }
            data.release();
            if (serviceFrames.atBoundary()) {
                sendClose();
            }
        }
        if (!clientContext.channel().isWritable()) {
            service.config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (clientContext != null) {
            clientContext.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (clientContext != null && ctx.channel().isWritable()) {
            clientContext.channel().config().setAutoRead(true);
        }
    }

    /** At shutdown, on the tunnel's event loop: the close frame goes now, or after the service's frame under way. */
    void goAway() {
        service.eventLoop().execute(() -> {
            closeWanted = true;
            if (serviceFrames.atBoundary()) {
                sendClose();
            }
        });
    }

    private void sendClose() {
        if (closeSent || clientContext == null) {
            return;
        }
        closeSent = true;
        clientContext.writeAndFlush(FrameBoundaries.closeFrame(clientContext.alloc(), SocketTunnels.GOING_AWAY,
                SocketTunnels.GOING_AWAY_REASON), clientContext.voidPromise());
        // The client answers with its own close frame, which reaches the service, which then closes; if it does
        // not, the connections are closed anyway.
        service.eventLoop().schedule(() -> {
            clientContext.close();
            service.close();
        }, SocketTunnels.CLOSE_HANDSHAKE_MILLIS, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------------------------------------
    // The end

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a reset by the service: closing the connection closes the client's too
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (headTimeout != null) {
            headTimeout.cancel(false);
        }
        if (clientContext != null) {
            ending = true;
            Closing.whenWritten(clientContext.channel(), SocketTunnels.CLOSE_HANDSHAKE_MILLIS,
                    SocketTunnels.CLOSING_MAX_MILLIS);
        } else if (request != null) {
            // closed before it answered the upgrade
            unavailable();
        }
        release();
    }

    private void upgradeAnswered(int status) {
        Span span = upgradeSpan;
        if (span == null) {
            return;
        }
        upgradeSpan = null;
        if (status > 0) {
            span.setAttribute("http.response.status_code", (long) status);
        }
        if (status < 0 || status >= 500) {
            span.setStatus(StatusCode.ERROR);
        }
        span.end();
    }

    /** 502 to a client whose upgrade is still unanswered. */
    private void unavailable() {
        upgradeAnswered(-1);
        HttpServerRequest unanswered = request;
        if (unanswered == null) {
            return;
        }
        request = null;
        context.emit(v -> {
            unanswered.resume();
            ErrorResponses.sendUnavailable(unanswered.response(), serviceName);
        });
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        upgradeAnswered(-1);
        if (head != null) {
            head.release();
            head = null;
        }
        if (early != null) {
            early.release();
            early = null;
        }
        tunnels.closed(this);
    }
}
