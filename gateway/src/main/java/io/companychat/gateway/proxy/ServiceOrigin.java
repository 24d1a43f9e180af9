package io.companychat.gateway.proxy;

import io.companychat.gateway.error.ErrorResponses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.impl.HttpUtils;
import io.vertx.httpproxy.OriginRequestProvider;
import io.vertx.httpproxy.ProxyContext;

/** Opens the request to the service; a WebSocket upgrade that cannot reach it gets the JSON 502 here. */
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
        HttpServerRequest incoming = context.request().proxiedRequest();
        // Both timeouts end when the service's response head arrives, so an open WebSocket tunnel is never cut.
        // The connect timeout also bounds the wait for a pooled connection, not only the TCP handshake.
        RequestOptions options = new RequestOptions()
                .setHost(address.host())
                .setPort(address.port())
                .setConnectTimeout(connectTimeoutMillis)
                .setIdleTimeout(requestTimeoutMillis);
        // the same test ReverseProxy uses to pick its WebSocket path
        if (!HttpUtils.canUpgradeToWebSocket(incoming)) {
            // a failure here becomes an empty 502 that ForwardingInterceptor turns into the JSON answer
            return context.client().request(options);
        }
        return context.client().request(options).recover(failure -> {
            // On its WebSocket path ReverseProxy answers a failed origin with an empty 502 and runs no interceptor,
            // so the JSON answer is written here. The returned future never completes: ReverseProxy then neither
            // writes a second response nor touches the request again, and nothing keeps a reference to the future.
            // A service that takes the connection but never answers the upgrade fails later, inside ReverseProxy,
            // which then sends its own empty 502 after the request timeout.
            incoming.resume();
            ErrorResponses.sendUnavailable(incoming.response(), address.name());
            return Promise.<HttpClientRequest> promise().future();
        });
    }
}
