package io.companychat.gateway.proxy;

import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyOptions;

/** Forwards requests, plain HTTP and WebSocket upgrades alike, to one service. */
public final class ServiceProxy {

    private final HttpProxy proxy;

    ServiceProxy(ServiceAddress address, HttpClient client, long connectTimeoutMillis, long requestTimeoutMillis) {
        this.proxy = HttpProxy.reverseProxy(new ProxyOptions().setSupportWebSocket(true), client)
                .origin(new ServiceOrigin(address, connectTimeoutMillis, requestTimeoutMillis))
                .addInterceptor(new ForwardingInterceptor(address.name()));
    }

    /**
     * Hands the request to the proxy. Must be called on the request's event loop before it is paused or resumed, so
     * that no body chunk is read before the proxy takes over the stream.
     */
    public void forward(HttpServerRequest request) {
        proxy.handle(request);
    }
}
