package io.companychat.gateway.routing;

import java.util.Locale;
import java.util.Optional;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpUtils;

/**
 * Which request paths the gateway accepts, and which path it sends on.
 * <p>
 * Services keep routes under {@code /internal/*} that must never be reachable from outside. The gateway routes on the
 * normalized path, but a service may decode or normalize differently; so every path that a decoder or normalizer could
 * turn into a different route (dot segments, encoded dots, slashes and backslashes, backslashes) is refused outright.
 */
public final class PathPolicy {

    private static final String[] FORBIDDEN_ENCODINGS = { "%2e", "%2f", "%5c" };

    private PathPolicy() {
    }

    /** Why the raw (undecoded) path is refused, or empty when it is acceptable. */
    public static Optional<String> violation(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            return Optional.of("path must start with /");
        }
        if (rawPath.indexOf('\\') >= 0) {
            return Optional.of("path must not contain a backslash");
        }
        String lower = rawPath.toLowerCase(Locale.ROOT);
        for (String encoding : FORBIDDEN_ENCODINGS) {
            if (lower.contains(encoding)) {
                return Optional.of("path must not contain encoded dots, slashes or backslashes");
            }
        }
        for (String segment : rawPath.split("/", -1)) {
            // Some servers drop ";params" from a segment before resolving dots, so "..;x" counts as "..".
            int params = segment.indexOf(';');
            String name = params >= 0 ? segment.substring(0, params) : segment;
            if (name.equals(".") || name.equals("..")) {
                return Optional.of("path must not contain dot segments");
            }
        }
        return Optional.empty();
    }

    /**
     * The path the routes matched against. Vert.x Web routes on exactly this normalization, so what is forwarded is
     * what was checked.
     */
    public static String normalizedPath(HttpServerRequest request) {
        return HttpUtils.normalizePath(request.path());
    }

    /** The normalized path plus the untouched query string: what the service receives as its request target. */
    public static String forwardedUri(HttpServerRequest request) {
        String query = request.query();
        String path = normalizedPath(request);
        return query == null ? path : path + "?" + query;
    }

    /**
     * Whether the request target is already in its forwarded form: WebSocket upgrades are forwarded with the raw
     * request target, so they are only accepted when raw and forwarded agree.
     */
    public static boolean isCanonical(HttpServerRequest request) {
        // Compares the path part only: request.query() would cache a copy of the query string (the token) in the
        // request, which an upgraded connection keeps for the life of its socket.
        String uri = request.uri();
        int query = uri.indexOf('?');
        String path = normalizedPath(request);
        return (query < 0 ? uri.length() : query) == path.length() && uri.startsWith(path);
    }
}
