package io.companychat.gateway.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Where the services live and how the gateway talks to them. */
@ConfigMapping(prefix = "gateway")
public interface GatewayConfig {

    /** Base URL of user-service, e.g. {@code http://localhost:8081}. */
    String userServiceUrl();

    /** Base URL of auth-service, e.g. {@code http://localhost:8082}. */
    String authServiceUrl();

    /**
     * Base URL of chat-service, e.g. {@code http://localhost:8083}; several replicas reached directly (no load
     * balancer in front of them, as in the local run's {@code CHAT_REPLICAS}) as a comma-separated list: requests and
     * sockets go to them in turn.
     */
    List<String> chatServiceUrl();

    /** Connections kept per service for HTTP requests (WebSockets have a pool of their own, {@link #maxSockets()}). */
    @WithDefault("200")
    int maxPoolSize();

    /**
     * WebSocket tunnels open (or being opened) at once through this gateway process; past it an upgrade gets 502.
     * Each holds two connections, so two file descriptors: the process's open-files limit must be above twice this
     * (see the README, "Sockets per process").
     */
    @WithDefault("100000")
    int maxSockets();

    /**
     * At shutdown, the tunnels' clients get their close frames at most this many a second
     * ({@code GATEWAY_SHUTDOWN_CLOSE_RATE}; 0 = all at once), so that they reconnect over seconds, not milliseconds.
     */
    @WithDefault("2000")
    int shutdownCloseRate();

    /** How long to wait for a TCP connection to a service before answering 502. */
    @WithDefault("3s")
    Duration connectTimeout();

    /**
     * How long a request, or a WebSocket upgrade, may wait for the service's response head before the gateway gives
     * up with 502. Streaming a body and an open WebSocket tunnel have no limit.
     */
    @WithDefault("30s")
    Duration requestTimeout();

    /**
     * How long a client connection may take to deliver a request head whole, from its first byte (the first head:
     * from the connection's opening); past it the client gets 408 and the connection is closed. 0 turns it off.
     */
    @WithDefault("10s")
    Duration headTimeout();

    /**
     * The largest request body the gateway forwards, the services' own limit: a larger declared
     * {@code Content-Length} gets the API.md 413 from the gateway, since a service refusing it mid-upload
     * closes the connection under the proxy (an empty 413, or a 502 when the reset wins the race).
     */
    @WithDefault("64K")
    MemorySize maxBodySize();

    /**
     * The proxies in front of the gateway (the Ingress controller's pods), as IP addresses or CIDR blocks. When
     * the TCP peer is one of them, the client address is taken from its {@code X-Forwarded-For}: the rightmost
     * entry that is not itself a trusted proxy. Empty (the default): the peer is the client, and a client-sent
     * {@code X-Forwarded-For} is ignored.
     */
    Optional<List<String>> trustedProxies();
}
