package io.companychat.common.api;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

/**
 * The client's address, for per-address limits. Vert.x takes it from {@code X-Forwarded-For} / {@code Forwarded}
 * only when the request comes from a trusted proxy ({@code quarkus.http.proxy.trusted-proxies}, i.e. the gateway,
 * which replaces whatever the client sent); otherwise it is the TCP peer's own address. So limits count clients,
 * not the gateway, and a client cannot pick its own address.
 */
public final class ClientAddress {

    /** The width of the {@code client_address} columns. */
    public static final int MAX_LENGTH = 64;

    private ClientAddress() {
    }

    /** The address as text (at most {@value #MAX_LENGTH} characters), or {@code unknown}. */
    public static String of(HttpServerRequest request) {
        SocketAddress remote = request.remoteAddress();
        String address = remote == null ? null : remote.hostAddress() != null ? remote.hostAddress() : remote.host();
        if (address == null || address.isBlank()) {
            return "unknown";
        }
        return address.length() > MAX_LENGTH ? address.substring(0, MAX_LENGTH) : address;
    }
}
