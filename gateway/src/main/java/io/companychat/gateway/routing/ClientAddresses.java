package io.companychat.gateway.routing;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.companychat.gateway.config.GatewayConfig;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

/**
 * Who the client is, for the services' {@code X-Forwarded-For}. Without trusted proxies it is the TCP peer, and
 * whatever the client claims is ignored. Behind trusted proxies (an Ingress controller), the peer's
 * {@code X-Forwarded-For} is read from the right: each trusted hop is skipped, and the first address that is not a
 * trusted proxy is the client. Entries to the left of it were written by the client and are never believed.
 */
@ApplicationScoped
public class ClientAddresses {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private final List<Block> trusted;

    @Inject
    public ClientAddresses(GatewayConfig config) {
        this(config.trustedProxies().orElse(List.of()));
    }

    /** With these trusted proxies: IP addresses or CIDR blocks. */
    public ClientAddresses(List<String> trustedProxies) {
        this.trusted = trustedProxies.stream().map(String::trim).filter(s -> !s.isEmpty()).map(Block::parse).toList();
    }

    /** The client's address, or null when the peer's is unknown. */
    public String of(HttpServerRequest request) {
        SocketAddress peer = request.remoteAddress();
        if (peer == null || peer.hostAddress() == null) {
            return null;
        }
        return of(peer.hostAddress(), request.headers().getAll("X-Forwarded-For"));
    }

    /** The client's address, for a request from {@code peer} that carried these {@code X-Forwarded-For} headers. */
    String of(String peer, List<String> forwardedFor) {
        String client = peer;
        if (trusted.isEmpty() || !isTrusted(literal(client))) {
            return client;
        }
        List<String> hops = new ArrayList<>();
        for (String header : forwardedFor) {
            for (String hop : header.split(",")) {
                hops.add(hop.trim());
            }
        }
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetAddress hop = literal(hops.get(i));
            if (hop == null) {
                break; // not an address: the last hop we could read stands
            }
            client = hop.getHostAddress();
            if (!isTrusted(hop)) {
                break;
            }
        }
        return client;
    }

    private boolean isTrusted(InetAddress address) {
        return address != null && trusted.stream().anyMatch(block -> block.contains(address));
    }

    /** An IP literal, parsed without any name lookup; null for anything else. */
    static InetAddress literal(String text) {
        String address = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (!IPV4.matcher(address).matches() && !IPV6.matcher(address).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** An address block: {@code 10.0.0.0/8}, {@code fd00::/8}, or one address. */
    record Block(byte[] network, int prefixBits) {

        static Block parse(String text) {
            int slash = text.indexOf('/');
            InetAddress address = literal(slash < 0 ? text : text.substring(0, slash));
            if (address == null) {
                throw new IllegalArgumentException("gateway.trusted-proxies: not an IP address or CIDR block: " + text);
            }
            int maxBits = address.getAddress().length * 8;
            int bits;
            try {
                bits = slash < 0 ? maxBits : Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > maxBits) {
                throw new IllegalArgumentException("gateway.trusted-proxies: bad prefix length in " + text);
            }
            return new Block(address.getAddress(), bits);
        }

        boolean contains(InetAddress address) {
            byte[] candidate = address.getAddress();
            if (candidate.length != network.length) {
                return false;
            }
            int bits = prefixBits;
            for (int i = 0; bits > 0; i++, bits -= 8) {
                int mask = bits >= 8 ? 0xFF : (0xFF << (8 - bits)) & 0xFF;
                if ((candidate[i] & mask) != (network[i] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }
}
