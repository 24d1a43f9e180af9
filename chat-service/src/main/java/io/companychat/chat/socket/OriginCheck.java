package io.companychat.chat.socket;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.chat.metrics.ChatMetrics;
import io.quarkus.runtime.Startup;
import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

/**
 * Refuses, with 403, a socket upgrade from a web page of another site (cross-site WebSocket hijacking), as
 * Phoenix's {@code check_origin} does. An upgrade without {@code Origin} (native and server clients) passes; one
 * whose {@code Origin} is the gateway's own origin passes; so does one listed in {@code chat.socket.allowed-origins}
 * ({@code CHAT_ALLOWED_ORIGINS}). Anything else, {@code Origin: null} included, is refused.
 * <p>
 * The gateway's own origin is the one the browser addressed: the {@code Origin}'s host and port must be those of
 * the request's authority. Behind the gateway that is its {@code X-Forwarded-Host} (the {@code Host} the client
 * sent it), believed only from a trusted proxy ({@code quarkus.http.proxy.trusted-proxies}); straight to the
 * service, the {@code Host} header. So a page served by the gateway at {@code http://localhost:8080} opening
 * {@code ws://localhost:8080/socket/websocket} passes, whatever name the gateway is reached by, with no address to
 * configure. The scheme is not compared: TLS may end before the gateway.
 */
@Startup
@ApplicationScoped
public class OriginCheck implements HttpUpgradeCheck {

    private static final String ORIGIN = "Origin";

    private final Set<Origin> allowed;
    private final ChatMetrics metrics;

    public OriginCheck(SocketConfig config, ChatMetrics metrics) {
        this.metrics = metrics;
        this.allowed = config.allowedOrigins().stream().flatMap(origins -> origins.stream())
                .map(String::trim).filter(origin -> !origin.isEmpty())
                .map(origin -> {
                    Origin parsed = Origin.parse(origin);
                    if (parsed == null) {
                        throw new IllegalArgumentException("chat.socket.allowed-origins (CHAT_ALLOWED_ORIGINS): '" + origin
                                + "' is not an origin such as https://chat.example.com");
                    }
                    return parsed;
                })
                .collect(Collectors.toUnmodifiableSet());
    }

    @Override
    public boolean appliesTo(String endpointId) {
        return ChatSocket.ENDPOINT_ID.equals(endpointId);
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        HttpServerRequest request = context.httpRequest();
        String header = request.getHeader(ORIGIN);
        if (header == null) {
            return CheckResult.permitUpgrade();
        }
        Origin origin = Origin.parse(header);
        if (origin != null && (allowed.contains(origin) || origin.isAuthorityOf(request.authority()))) {
            return CheckResult.permitUpgrade();
        }
        metrics.upgradeRefused(ChatMetrics.ORIGIN);
        return CheckResult.rejectUpgrade(403);
    }

    /** An origin, {@code scheme://host[:port]}, lower-cased, with the scheme's default port made explicit. */
    record Origin(String scheme, String host, int port) {

        /** The origin, or null when the text is not one (a path, no host, {@code null}). */
        static Origin parse(String text) {
            try {
                URI uri = new URI(text.trim());
                String path = uri.getRawPath();
                if (uri.getScheme() == null || uri.getHost() == null || uri.getRawUserInfo() != null
                        || (path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null
                        || uri.getRawFragment() != null) {
                    return null;
                }
                String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
                return new Origin(scheme, bare(uri.getHost()), uri.getPort() >= 0 ? uri.getPort() : defaultPort(scheme));
            } catch (URISyntaxException e) {
                return null;
            }
        }

        /** Whether a page of this origin addressed the request's host and port (its scheme's default if absent). */
        boolean isAuthorityOf(HostAndPort authority) {
            if (authority == null || authority.host() == null) {
                return false;
            }
            int requestPort = authority.port() >= 0 ? authority.port() : defaultPort(scheme);
            return host.equals(bare(authority.host())) && port == requestPort;
        }

        private static String bare(String host) {
            String lower = host.toLowerCase(Locale.ROOT);
            return lower.startsWith("[") && lower.endsWith("]") ? lower.substring(1, lower.length() - 1) : lower;
        }

        private static int defaultPort(String scheme) {
            return switch (scheme) {
                case "http", "ws" -> 80;
                case "https", "wss" -> 443;
                default -> -1;
            };
        }
    }
}
