package io.companychat.gateway.proxy;

import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpUtils;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyOptions;

/** Forwards requests to one service: plain HTTP through Vert.x's ReverseProxy, WebSocket upgrades through {@link SocketTunnels}. */
public final class ServiceProxy {

    private final HttpProxy proxy;
    private final SocketTunnels tunnels;
    private final ServiceAddress address;
    private final long connectTimeoutMillis;
    private final long requestTimeoutMillis;

    ServiceProxy(ServiceAddress address, HttpClient client, long connectTimeoutMillis, long requestTimeoutMillis,
            SocketTunnels tunnels) {
        this.proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(false), client)
                .origin(new ServiceOrigin(address, connectTimeoutMillis, requestTimeoutMillis))
                .addInterceptor(new ForwardingInterceptor(address.name()));
        this.tunnels = tunnels;
        this.address = address;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    /**
     * Hands the request to the proxy. Must be called on the request's event loop before it is paused or resumed, so
     * that no body chunk is read before the proxy takes over the stream.
     */
    public void forward(HttpServerRequest request) {
        // the same test ReverseProxy uses to pick its WebSocket path
        if (HttpUtils.canUpgradeToWebSocket(request)) {
            tunnels.open(request, address, connectTimeoutMillis, requestTimeoutMillis);
        } else {
            proxy.handle(request);
        }
    }
}
