package io.companychat.gateway.config;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Where the services live and how the gateway talks to them. */
@ConfigMapping(prefix = "gateway")
public interface GatewayConfig {

    /** Base URL of user-service, e.g. {@code http://localhost:8081}. */
    String userServiceUrl();

    /** Base URL of auth-service, e.g. {@code http://localhost:8082}. */
    String authServiceUrl();

    /** Base URL of chat-service, e.g. {@code http://localhost:8083}. */
    String chatServiceUrl();

    /** Connections kept per service; each open WebSocket holds one while its upgrade is in flight. */
    @WithDefault("200")
    int maxPoolSize();

    /** How long to wait for a TCP connection to a service before answering 502. */
    @WithDefault("3s")
    Duration connectTimeout();

    /**
     * How long a plain HTTP request may wait for the service to send anything before the gateway gives up with 502.
     * Not applied to WebSocket tunnels, which are idle for long stretches by nature.
     */
    @WithDefault("30s")
    Duration requestTimeout();
}
