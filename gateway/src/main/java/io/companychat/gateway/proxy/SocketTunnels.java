package io.companychat.gateway.proxy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.gateway.error.ErrorResponses;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.NetSocket;

/**
 * The WebSocket tunnels from clients to a service, as Vert.x's ReverseProxy opens them (the upgrade is forwarded,
 * then bytes flow both ways untouched), plus what ReverseProxy cannot do: when the gateway is told to stop, each
 * client gets a close frame (1001, going away) instead of a dropped connection, and the tunnels no longer hold
 * the shutdown until its timeout (Quarkus counts an open tunnel as a request in flight).
 */
@ApplicationScoped
public class SocketTunnels {

    static final int GOING_AWAY = 1001;
    static final String GOING_AWAY_REASON = "gateway shutting down";
    /** How long a client has to answer the close frame before its connection is closed anyway. */
    static final long CLOSE_HANDSHAKE_MILLIS = 2000;

    private final Vertx vertx;
    private final Set<Tunnel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    public SocketTunnels(Vertx vertx) {
        this.vertx = vertx;
    }

    /** SIGTERM (quarkus.shutdown.delay-enabled makes Quarkus fire this before it waits for requests in flight). */
    void shuttingDown(@Observes ShutdownDelayInitiatedEvent shutdown) {
        stopping = true;
        if (!open.isEmpty()) {
            Log.infof("Closing %d WebSocket tunnels", open.size());
        }
        open.forEach(Tunnel::goAway);
    }

    /** Forwards the upgrade to the service and, once it accepts, tunnels the connection. */
    void open(HttpServerRequest request, HttpClient client, ServiceAddress address, long connectTimeoutMillis,
            long requestTimeoutMillis) {
        // Nothing of the request may be read before its handlers are set, below.
        request.pause();
        if (stopping) {
            request.resume();
            ErrorResponses.sendUnavailable(request.response(), address.name());
            return;
        }
        RequestOptions options = new RequestOptions()
                .setHost(address.host())
                .setPort(address.port())
                .setConnectTimeout(connectTimeoutMillis)
                .setIdleTimeout(requestTimeoutMillis);
        client.request(options).onComplete(created -> {
            if (created.failed()) {
                request.resume();
                ErrorResponses.sendUnavailable(request.response(), address.name());
                return;
            }
            HttpClientRequest upgrade = created.result();
            upgrade.setMethod(HttpMethod.GET);
            upgrade.setURI(request.uri());
            // As ReverseProxy does: the service gets its own Host, and a Connection header that asks only for the upgrade.
            request.headers().forEach((name, value) -> {
                if (HttpHeaders.CONNECTION.toString().equalsIgnoreCase(name)) {
                    upgrade.headers().set(HttpHeaders.CONNECTION, HttpHeaders.UPGRADE);
                } else if (!HttpHeaders.HOST.toString().equalsIgnoreCase(name)) {
                    upgrade.headers().add(name, value);
                }
            });
            upgrade.connect().onComplete(answered -> {
                if (answered.failed()) {
                    request.resume();
                    ErrorResponses.sendUnavailable(request.response(), address.name());
                } else if (answered.result().statusCode() != 101) {
                    request.resume();
                    request.response().setStatusCode(answered.result().statusCode()).putHeader("Content-Length", "0").end();
                } else {
                    accept(request, answered.result());
                }
            });
            request.handler(upgrade::write);
            request.endHandler(v -> upgrade.end());
            request.resume();
        });
    }

    private void accept(HttpServerRequest request, HttpClientResponse upgraded) {
        HttpServerResponse response = request.response();
        response.setStatusCode(101);
        response.headers().addAll(upgraded.headers());
        NetSocket service = upgraded.netSocket();
        request.toNetSocket().onComplete(accepted -> {
            if (accepted.failed()) {
                service.close();
                return;
            }
            Tunnel tunnel = new Tunnel(vertx.getOrCreateContext(), accepted.result(), service);
            open.add(tunnel);
            tunnel.start();
            if (stopping) {
                tunnel.goAway();
            }
        });
    }

    /** One client's connection and the gateway's connection to the service, joined. */
    private final class Tunnel {

        private final Context context;
        private final NetSocket client;
        private final NetSocket service;
        /** Where the service's frames begin and end, so that a close frame goes in between two of them. */
        private final FrameBoundaries serviceFrames = new FrameBoundaries();
        private boolean closeWanted;
        private boolean closeSent;

        Tunnel(Context context, NetSocket client, NetSocket service) {
            this.context = context;
            this.client = client;
            this.service = service;
        }

        void start() {
            client.handler(data -> relay(data, service, client));
            service.handler(this::fromService);
            client.closeHandler(v -> {
                open.remove(this);
                service.close();
            });
            service.closeHandler(v -> {
                open.remove(this);
                client.close();
            });
        }

        private void fromService(Buffer data) {
            if (closeSent) {
                // The client has its close frame: nothing may follow it (the service's own close reply included).
                return;
            }
            if (!closeWanted) {
                serviceFrames.advance(data, false);
                relay(data, client, service);
                return;
            }
            int end = serviceFrames.atBoundary() ? 0 : serviceFrames.advance(data, true);
            if (end > 0) {
                client.write(data.slice(0, end));
            }
            if (serviceFrames.atBoundary()) {
                sendClose();
            }
        }

        /** Runs on the tunnel's event loop: the close frame goes now, or after the service's frame being relayed. */
        void goAway() {
            context.runOnContext(v -> {
                closeWanted = true;
                if (serviceFrames.atBoundary()) {
                    sendClose();
                }
            });
        }

        private void sendClose() {
            if (closeSent) {
                return;
            }
            closeSent = true;
            client.write(FrameBoundaries.closeFrame(GOING_AWAY, GOING_AWAY_REASON));
            // The client answers with its own close frame, which reaches the service, which then closes; if it does
            // not, the connections are closed anyway.
            vertx.setTimer(CLOSE_HANDSHAKE_MILLIS, id -> {
                client.close();
                service.close();
            });
        }

        private void relay(Buffer data, NetSocket to, NetSocket from) {
            to.write(data);
            if (to.writeQueueFull()) {
                from.pause();
                to.drainHandler(v -> from.resume());
            }
        }
    }
}
