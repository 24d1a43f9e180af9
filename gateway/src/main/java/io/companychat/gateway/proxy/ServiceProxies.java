package io.companychat.gateway.proxy;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.gateway.config.GatewayConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;

/** One proxy per service, sharing two pooled HTTP clients (requests, WebSockets) on the Quarkus-managed Vert.x instance. */
@ApplicationScoped
public class ServiceProxies {

    private final ServiceProxy users;
    private final ServiceProxy auth;
    private final ServiceProxy chat;

    public ServiceProxies(Vertx vertx, GatewayConfig config, SocketTunnels tunnels) {
        long connectTimeoutMillis = config.connectTimeout().toMillis();
        long requestTimeoutMillis = config.requestTimeout().toMillis();
        // The pool limit applies per service address. Bodies are passed on as they are, never decompressed.
        HttpClient client = vertx.createHttpClient(new HttpClientOptions()
                .setMaxPoolSize(config.maxPoolSize())
                .setConnectTimeout((int) connectTimeoutMillis)
                .setKeepAlive(true)
                .setDecompressionSupported(false));
        // An upgraded connection stays in its pool until the WebSocket closes: sockets get a pool of their own, sized
        // for every socket a service may hold, so that they never starve (or are starved by) plain requests.
        HttpClient sockets = vertx.createHttpClient(new HttpClientOptions()
                .setMaxPoolSize(config.maxSockets())
                .setConnectTimeout((int) connectTimeoutMillis)
                // keep-alive off would send "Connection: close" in place of "Connection: Upgrade"
                .setKeepAlive(true)
                .setDecompressionSupported(false));
        this.users = new ServiceProxy(ServiceAddress.parse("user-service", config.userServiceUrl()), client, sockets,
                connectTimeoutMillis, requestTimeoutMillis, tunnels);
        this.auth = new ServiceProxy(ServiceAddress.parse("auth-service", config.authServiceUrl()), client, sockets,
                connectTimeoutMillis, requestTimeoutMillis, tunnels);
        this.chat = new ServiceProxy(ServiceAddress.parse("chat-service", config.chatServiceUrl()), client, sockets,
                connectTimeoutMillis, requestTimeoutMillis, tunnels);
    }

    public ServiceProxy users() {
        return users;
    }

    public ServiceProxy auth() {
        return auth;
    }

    public ServiceProxy chat() {
        return chat;
    }
}
