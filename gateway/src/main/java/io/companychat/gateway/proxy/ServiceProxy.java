package io.companychat.gateway.proxy;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpUtils;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyOptions;

/**
 * Forwards requests to one service: plain HTTP through Vert.x's ReverseProxy, WebSocket upgrades through
 * {@link SocketTunnels}. A service given as several addresses (chat-service replicas without a load balancer in
 * front, as in the local run) gets requests and sockets in turn; behind a Kubernetes Service it is one address.
 */
public final class ServiceProxy {

    private final List<Replica> replicas;
    private final AtomicInteger turn = new AtomicInteger();
    private final SocketTunnels tunnels;
    private final long connectTimeoutMillis;
    private final long requestTimeoutMillis;

    ServiceProxy(List<ServiceAddress> addresses, HttpClient client, long connectTimeoutMillis, long requestTimeoutMillis,
            SocketTunnels tunnels) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("a service needs an address");
        }
        this.replicas = addresses.stream().map(address -> new Replica(address,
                HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(false), client)
                        .origin(new ServiceOrigin(address, connectTimeoutMillis, requestTimeoutMillis))
                        .addInterceptor(new ForwardingInterceptor(address.name()))))
                .toList();
        this.tunnels = tunnels;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    /**
     * Hands the request to the proxy. Must be called on the request's event loop before it is paused or resumed, so
     * that no body chunk is read before the proxy takes over the stream.
     */
    public void forward(HttpServerRequest request) {
        Replica replica = replicas.size() == 1 ? replicas.get(0)
                : replicas.get(Math.floorMod(turn.getAndIncrement(), replicas.size()));
        // the same test ReverseProxy uses to pick its WebSocket path
        if (HttpUtils.canUpgradeToWebSocket(request)) {
            tunnels.open(request, replica.address(), connectTimeoutMillis, requestTimeoutMillis);
        } else {
            replica.proxy().handle(request);
        }
    }

    private record Replica(ServiceAddress address, HttpProxy proxy) {
    }
}
