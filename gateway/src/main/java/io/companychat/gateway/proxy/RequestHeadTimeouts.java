package io.companychat.gateway.proxy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.gateway.config.GatewayConfig;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.quarkus.logging.Log;
import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.quarkus.vertx.http.HttpServerStart;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * The request head timeout ({@code gateway.head-timeout}): a client connection must deliver each request head whole
 * within this time of its first byte (the first head: of the connection's opening), or it gets 408 and is closed. The
 * idle timeout alone cannot stop a client that trickles a header byte now and then, and Vert.x has no such timeout.
 * <p>
 * Vert.x offers no hook on a new connection either, so the gateway puts one on its listening channel: the first
 * request it serves (a request to itself as soon as the server listens) hands over the connection's parent, the
 * listening channel, whose pipeline then gives every accepted connection a {@link RequestHeadWatch} before Vert.x
 * sets up its HTTP handlers. Written by hand on purpose: no library offers it for Vert.x. Netty's handlers are the one
 * place that sees a connection's bytes before any request exists.
 * <p>
 * Cleartext HTTP/2 (h2c) is turned off on the public port: Vert.x would choose the protocol only on the first bytes,
 * after the watch is set up, and no client of ours speaks h2c (browsers speak HTTP/2 only over TLS, which ends at the
 * Ingress; the Ingress speaks HTTP/1.1 to the gateway, the only way to tunnel WebSockets).
 */
@ApplicationScoped
public class RequestHeadTimeouts implements HttpServerOptionsCustomizer {

    static final String ACCEPTOR = "companychat-head-timeout-acceptor";
    /** The path of the gateway's request to itself; any path the gateway answers without a service will do. */
    static final String SELF_REQUEST_PATH = "/.gateway-started";

    private final long timeoutNanos;
    private final Vertx vertx;
    private final AtomicBoolean installed = new AtomicBoolean();

    public RequestHeadTimeouts(GatewayConfig config, Vertx vertx) {
        this.timeoutNanos = config.headTimeout().toNanos();
        this.vertx = vertx;
    }

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setHttp2ClearTextEnabled(false);
    }

    /** As soon as the public port listens, one request to itself puts the watch on the listening channel. */
    void started(@Observes HttpServerStart start) {
        if (timeoutNanos <= 0) {
            return;
        }
        HttpServerOptions options = start.options();
        String host = options.getHost();
        if (host == null || host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        }
        HttpClient client = vertx.createHttpClient();
        client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(options.getPort())
                .setURI(SELF_REQUEST_PATH).setTimeout(5000))
                .compose(request -> request.send())
                .onComplete(done -> {
                    client.close();
                    if (done.failed()) {
                        Log.warnf("The gateway could not reach itself to set up its request head timeout (%s); it will "
                                + "on its first request", done.cause().getMessage());
                    }
                });
    }

    /**
     * Called for every request (the routes' guard) until the watch is in place: puts it on the listening channel of
     * the request's connection. Connections accepted before that moment (the first milliseconds) are not watched.
     */
    public void install(HttpServerRequest request) {
        if (timeoutNanos <= 0 || installed.get() || !(request.connection() instanceof ConnectionBase connection)) {
            return;
        }
        Channel listening = connection.channel().parent();
        if (listening != null && installed.compareAndSet(false, true)) {
            listening.pipeline().addFirst(ACCEPTOR, new Acceptor());
            Log.debugf("Request head timeout of %d ms on %s", TimeUnit.NANOSECONDS.toMillis(timeoutNanos), listening);
        }
    }

    /** Removes a connection's watch: its request heads are over (the connection now carries a WebSocket tunnel). */
    static void stopWatching(ChannelPipeline pipeline) {
        RequestHeadWatch.remove(pipeline);
    }

    /** On the listening channel: each message read is a newly accepted connection, not yet registered. */
    @ChannelHandler.Sharable
    private final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel accepted) {
                RequestHeadWatch.addTo(accepted.pipeline(), timeoutNanos);
            }
            ctx.fireChannelRead(msg);
        }
    }
}
