package io.companychat.gateway.proxy;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.gateway.config.GatewayConfig;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;

/**
 * One proxy per service, sharing one pooled HTTP client on the Quarkus-managed Vert.x instance. WebSocket tunnels
 * open connections of their own ({@link SocketTunnels}).
 */
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
        this.users = new ServiceProxy(List.of(ServiceAddress.parse("user-service", config.userServiceUrl())), client,
                connectTimeoutMillis, requestTimeoutMillis, tunnels);
        this.auth = new ServiceProxy(List.of(ServiceAddress.parse("auth-service", config.authServiceUrl())), client,
                connectTimeoutMillis, requestTimeoutMillis, tunnels);
        this.chat = new ServiceProxy(config.chatServiceUrl().stream().map(url -> ServiceAddress.parse("chat-service", url)).toList(),
                client, connectTimeoutMillis, requestTimeoutMillis, tunnels);
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
