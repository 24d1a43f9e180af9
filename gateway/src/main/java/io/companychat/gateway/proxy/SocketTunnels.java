package io.companychat.gateway.proxy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.gateway.config.GatewayConfig;
import io.companychat.gateway.error.ErrorResponses;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.util.concurrent.ScheduledFuture;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * The WebSocket tunnels from clients to a service. The upgrade is forwarded on a connection of the tunnel's own, and
 * once the service has switched protocols the two connections are joined at the Netty level: bytes flow both ways
 * as the buffers they were read into, neither copied nor parsed (see {@link ServiceConnection}). When the gateway is
 * told to stop, each client gets a close frame (1001, going away) between two of the service's frames instead of a
 * dropped connection, and every tunnel is closed within {@link #CLOSE_HANDSHAKE_MILLIS} of it. The close frames go
 * out paced, at most {@code gateway.shutdown-close-rate} a second ({@code GATEWAY_SHUTDOWN_CLOSE_RATE}, 2,000) in
 * slices every {@value #SLICE_MILLIS} ms but all within {@link #MOST_SPREAD}, so that the clients do not all reconnect
 * (through the other gateways, to chat-service) in the same few milliseconds: phoenix.js retries 10 ms after a close.
 * chat-service paces its own the same way (its {@code SocketSweeper}; the gateway does not depend on common).
 */
@ApplicationScoped
public class SocketTunnels {

    static final int GOING_AWAY = 1001;
    static final String GOING_AWAY_REASON = "gateway shutting down";
    /** How long a client has to answer the close frame before its connection is closed anyway. */
    static final long CLOSE_HANDSHAKE_MILLIS = 2000;
    static final long SLICE_MILLIS = 100;
    /** The longest the close frames at shutdown are spread over: well within QUARKUS_SHUTDOWN_TIMEOUT (30 s deployed). */
    static final Duration MOST_SPREAD = Duration.ofSeconds(15);
    /**
     * The longest a side of a closed tunnel is kept to write out what is queued for it ({@link Closing}): 30 s, time
     * for a 64 KB queue at ~17 kbit/s.
     */
    static final long CLOSING_MAX_MILLIS = 30_000;

    private final VertxInternal vertx;
    private final OpenTelemetry telemetry;
    private final Tracer tracer;
    private final int maxSockets;
    private final int shutdownCloseRate;
    private final UpgradedRequests upgradedRequests;
    private final Set<ServiceConnection> open = ConcurrentHashMap.newKeySet();
    /** Tunnels open or being opened, against {@code gateway.max-sockets}. */
    private final AtomicInteger count = new AtomicInteger();
    private volatile boolean stopping;

    public SocketTunnels(Vertx vertx, GatewayConfig config, OpenTelemetry telemetry, UpgradedRequests upgradedRequests,
            MeterRegistry registry) {
        this.upgradedRequests = upgradedRequests;
        this.vertx = (VertxInternal) vertx;
        this.telemetry = telemetry;
        this.tracer = telemetry.getTracer(SocketTunnels.class.getName());
        this.maxSockets = config.maxSockets();
        this.shutdownCloseRate = config.shutdownCloseRate();
        // What a pod's load is (an idle tunnel costs no CPU): its autoscaler's Pods metric and an alert near the cap.
        Gauge.builder("gateway.tunnels.open", count, AtomicInteger::get)
                .description("WebSocket tunnels open (or being opened) through this gateway process").register(registry);
        Gauge.builder("gateway.tunnels.max", this, tunnels -> tunnels.maxSockets)
                .description("the most tunnels this process opens (GATEWAY_MAX_SOCKETS); past it an upgrade gets 502")
                .register(registry);
        if (vertx.isNativeTransportEnabled()) {
            Log.info("Connections on Netty's native epoll transport");
        } else {
            Log.infof("Connections on Java NIO: Netty's native transport is unavailable (%s)",
                    String.valueOf(vertx.unavailableNativeTransportCause()));
        }
    }

    /**
     * SIGTERM (quarkus.shutdown.delay-enabled makes Quarkus fire this before it waits for requests in flight): every
     * client gets its close frame, and the shutdown goes on when the tunnels are closed, at most
     * {@link #CLOSE_HANDSHAKE_MILLIS} and a margin later (their upgrade requests no longer count as in flight:
     * {@link UpgradedRequests}).
     */
    void shuttingDown(@Observes ShutdownDelayInitiatedEvent shutdown) throws InterruptedException {
        stopping = true;
        List<ServiceConnection> tunnels = new ArrayList<>(open);
        Collections.shuffle(tunnels); // a user's sockets (phone, laptop) do not all go in one slice
        int perSlice = perSlice(tunnels.size(), shutdownCloseRate, MOST_SPREAD);
        long lastSlice = tunnels.isEmpty() ? 0 : (tunnels.size() - 1) / perSlice * SLICE_MILLIS;
        if (!tunnels.isEmpty()) {
            Log.infof("Closing %d WebSocket tunnels, %d every %d ms", tunnels.size(), perSlice, SLICE_MILLIS);
        }
        goAwayInSlices(tunnels, 0, perSlice);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lastSlice + CLOSE_HANDSHAKE_MILLIS + 1000);
        synchronized (count) {
            for (long left; count.get() > 0 && (left = deadline - System.nanoTime()) > 0;) {
                TimeUnit.NANOSECONDS.timedWait(count, left);
            }
        }
    }

    /**
     * How many close frames each slice sends: {@code perSecond} spread over the slices of a second, but enough for all
     * of them within {@code within}; all at once for a rate of 0.
     */
    static int perSlice(int tunnels, int perSecond, Duration within) {
        if (perSecond <= 0) {
            return Math.max(1, tunnels);
        }
        long slices = Math.max(1, within.toMillis() / SLICE_MILLIS);
        int byRate = (int) Math.max(1, perSecond * SLICE_MILLIS / 1000);
        int byDeadline = (int) ((tunnels + slices - 1) / slices);
        return Math.max(byRate, byDeadline);
    }

    private void goAwayInSlices(List<ServiceConnection> tunnels, int from, int perSlice) {
        int to = Math.min(tunnels.size(), from + perSlice);
        for (int i = from; i < to; i++) {
            tunnels.get(i).goAway();
        }
        if (to < tunnels.size()) {
            vertx.setTimer(SLICE_MILLIS, timer -> goAwayInSlices(tunnels, to, perSlice));
        }
    }

    /** Sends every open tunnel's client its close frame (going away), between two of the service's frames. */
    void goAwayAll() {
        if (!open.isEmpty()) {
            Log.infof("Closing %d WebSocket tunnels", open.size());
        }
        open.forEach(ServiceConnection::goAway);
    }

    boolean stopping() {
        return stopping;
    }

    /**
     * Opens a connection to the service on the client connection's own event loop (so that both ends of the tunnel
     * are served by one thread), sends the upgrade on it and, once the service accepts, joins the two connections.
     */
    void open(HttpServerRequest request, ServiceAddress address, long connectTimeoutMillis, long requestTimeoutMillis) {
        // Nothing of the request may be read before the service has answered.
        request.pause();
        // read once: a SIGTERM between two reads would leave a count the shutdown waits on
        boolean refusing = stopping;
        if (refusing || count.incrementAndGet() > maxSockets) {
            if (!refusing) {
                count.decrementAndGet();
            }
            request.resume();
            ErrorResponses.sendUnavailable(request.response(), address.name());
            return;
        }
        Channel client = ((ConnectionBase) request.connection()).channel();
        ServiceConnection service = new ServiceConnection(this, request, address, requestTimeoutMillis,
                upgradeSpan(request, address));
        ChannelFuture connecting = new Bootstrap()
                .group(client.eventLoop())
                .channelFactory(vertx.transport().channelFactory(false))
                .resolver(vertx.nettyAddressResolverGroup())
                .option(ChannelOption.ALLOCATOR, client.alloc())
                .option(ChannelOption.TCP_NODELAY, true)
                // the connect timeout is ours: Netty's channel keeps its timer task (64 B) for the channel's life
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 0)
                .handler(service)
                .connect(address.host(), address.port());
        ScheduledFuture<?> timeout = client.eventLoop().schedule(() -> connecting.channel().close(), connectTimeoutMillis,
                TimeUnit.MILLISECONDS);
        connecting.addListener(connected -> {
            timeout.cancel(false);
            if (!connected.isSuccess()) {
                service.refused();
            }
        });
    }

    /**
     * A client span for the upgrade sent to the service, child of the gateway's span of the client's request, its
     * context written into the upgrade's headers so that the service's span joins the trace. It ends with the
     * service's answer: the socket's frames are not traced (a socket lives for hours). No query string is recorded
     * (tokens ride in it).
     */
    private Span upgradeSpan(HttpServerRequest request, ServiceAddress address) {
        Span span = tracer.spanBuilder("GET " + address.name() + " socket upgrade").setSpanKind(SpanKind.CLIENT)
                .setAttribute("http.request.method", "GET")
                .setAttribute("url.path", request.path())
                .setAttribute("server.address", address.host())
                .setAttribute("server.port", (long) address.port())
                .startSpan();
        telemetry.getPropagators().getTextMapPropagator().inject(Context.current().with(span), request.headers(),
                MultiMap::set);
        return span;
    }

    /** {@code upgraded} is the client's request, whose connection has switched protocols. */
    void opened(ServiceConnection tunnel, HttpServerRequest upgraded) {
        open.add(tunnel);
        upgradedRequests.endNow(upgraded);
        if (stopping) {
            tunnel.goAway();
        }
    }

    void closed(ServiceConnection tunnel) {
        open.remove(tunnel);
        if (count.decrementAndGet() == 0 && stopping) {
            synchronized (count) {
                count.notifyAll();
            }
        }
    }
}
