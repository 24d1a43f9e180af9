package io.companychat.gateway.proxy;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.httpproxy.OriginRequestProvider;
import io.vertx.httpproxy.ProxyContext;

/** Opens the plain HTTP request to the service (WebSocket upgrades go through {@link SocketTunnels}). */
final class ServiceOrigin implements OriginRequestProvider {

    private final ServiceAddress address;
    private final long connectTimeoutMillis;
    private final long requestTimeoutMillis;

    ServiceOrigin(ServiceAddress address, long connectTimeoutMillis, long requestTimeoutMillis) {
        this.address = address;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    @Override
    public Future<HttpClientRequest> create(ProxyContext context) {
        // Both timeouts end when the service's response head arrives. The connect timeout also bounds the wait for
        // a pooled connection, not only the TCP handshake. A failure here becomes an empty 502 that
        // ForwardingInterceptor turns into the JSON answer.
        RequestOptions options = new RequestOptions()
                .setHost(address.host())
                .setPort(address.port())
                .setConnectTimeout(connectTimeoutMillis)
                .setIdleTimeout(requestTimeoutMillis);
        return context.client().request(options);
    }
}
