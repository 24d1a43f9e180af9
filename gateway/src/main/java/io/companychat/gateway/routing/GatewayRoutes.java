package io.companychat.gateway.routing;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.companychat.gateway.config.GatewayConfig;
import io.companychat.gateway.error.ErrorResponses;
import io.companychat.gateway.proxy.RequestHeadTimeouts;
import io.companychat.gateway.proxy.ServiceProxies;
import io.companychat.gateway.proxy.ServiceProxy;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.quarkus.logging.Log;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpUtils;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The public routes of API.md, each sent to its service; everything else is answered by the gateway itself.
 * Nothing here logs a URI: tokens ride in the query string of {@code /socket/*}.
 */
@ApplicationScoped
public class GatewayRoutes {

    /**
     * Client-sent headers that the services would believe: forwarding headers (the services trust them from the
     * gateway's address, and Quarkus reads X-Forwarded-Port, -Prefix, -Ssl and others besides -For) and the
     * service credential of {@code /internal/*}, and the trace context (the gateway starts every trace and carries its
     * own context on: ClientTraceContextIgnored). Besides these, every {@code X-Forwarded-*} header is removed.
     */
    private static final List<String> CLIENT_HEADERS_REMOVED = List.of("Forwarded", "X-Real-IP", "X-Service-Token",
            "traceparent", "tracestate", "baggage");
    private static final String X_FORWARDED_PREFIX = "x-forwarded-";
    private static final String X_FORWARDED_FOR = "X-Forwarded-For";
    private static final String X_FORWARDED_HOST = "X-Forwarded-Host";

    private static final int GUARD_ORDER = RouteConstants.ROUTE_ORDER_BEFORE_DEFAULT;
    private static final int SERVICE_ORDER = RouteConstants.ROUTE_ORDER_BEFORE_DEFAULT + 1;
    private static final int NOT_FOUND_ORDER = RouteConstants.ROUTE_ORDER_AFTER_DEFAULT;

    /** How much of a refused body is read and dropped to keep the connection; beyond it the connection is closed. */
    private static final long MAX_DRAINED_BYTES = 1024 * 1024;

    private final ServiceProxies proxies;
    private final RequestHeadTimeouts headTimeouts;
    private final ClientAddresses clientAddresses;
    private final long maxBodyBytes;

    public GatewayRoutes(ServiceProxies proxies, RequestHeadTimeouts headTimeouts, ClientAddresses clientAddresses,
            GatewayConfig config) {
        this.proxies = proxies;
        this.headTimeouts = headTimeouts;
        this.clientAddresses = clientAddresses;
        this.maxBodyBytes = config.maxBodySize().asLongValue();
    }

    void init(@Observes Router router) {
        router.route().order(GUARD_ORDER).handler(this::guard).failureHandler(this::failure);
        route(router, proxies.users(), "/api/users(?:/.*)?");
        route(router, proxies.auth(), "/api/login", "/api/logout", "/\\.well-known/.+");
        route(router, proxies.chat(), "/api/conversations(?:/.*)?", "/api/messages(?:/.*)?", "/socket/.+");
        router.route().order(NOT_FOUND_ORDER).handler(ctx -> ErrorResponses.send(ctx.response(), 404, "not found"));
    }

    /**
     * Regular expressions matched against the whole normalized path: unlike Vert.x's {@code /x/*}, which also matches
     * {@code /x}, they say exactly which paths API.md gives each service.
     */
    private void route(Router router, ServiceProxy proxy, String... pathPatterns) {
        for (String pattern : pathPatterns) {
            router.routeWithRegex(pattern).order(SERVICE_ORDER).handler(ctx -> forward(ctx, proxy));
        }
    }

    /** Refuses path tricks before any route is chosen, so they get 400 whichever route they would have matched. */
    private void guard(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        headTimeouts.install(request);
        Optional<String> violation = PathPolicy.violation(request.path());
        if (violation.isPresent()) {
            ErrorResponses.send(ctx.response(), 400, violation.get());
        } else if (HttpUtils.canUpgradeToWebSocket(request) && !PathPolicy.isCanonical(request)) {
            ErrorResponses.send(ctx.response(), 400, "WebSocket path must be in normalized form");
        } else if (declaredLength(request) > maxBodyBytes) {
            refuseTooLarge(ctx);
        } else {
            ctx.next();
        }
    }

    private static long declaredLength(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        try {
            return length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * 413 in the API.md shape. The body is read and dropped rather than the connection closed at once: closing with
     * unread bytes resets the connection, and the client may lose the answer in the reset.
     */
    private static void refuseTooLarge(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        long[] drained = { 0 };
        request.handler(chunk -> {
            drained[0] += chunk.length();
            if (drained[0] > MAX_DRAINED_BYTES) {
                request.connection().close();
            }
        });
        // A client that gives up mid-upload after its 413 is nothing to report.
        request.exceptionHandler(failure -> {
        });
        request.resume();
        ErrorResponses.send(ctx.response(), 413, "request body too large");
    }

    /** Runs synchronously on the event loop: the proxy must take the request before any body chunk is read. */
    private void forward(RoutingContext ctx, ServiceProxy proxy) {
        HttpServerRequest request = ctx.request();
        String client = clientAddresses.of(request);
        // Set on the incoming request itself: ReverseProxy copies these headers for HTTP and WebSocket upgrades alike.
        MultiMap headers = request.headers();
        removeClientSentTrustedHeaders(headers);
        if (client != null) {
            headers.set(X_FORWARDED_FOR, client);
        }
        // The host the client addressed (its Host header): chat-service's socket Origin check compares the page's
        // origin with it, since the services get their own Host.
        HostAndPort authority = request.authority();
        if (authority != null) {
            headers.set(X_FORWARDED_HOST, authority.toString());
        }
        proxy.forward(request);
    }

    /** Only the gateway may set what the services trust: whatever the client sent under those names goes. */
    private static void removeClientSentTrustedHeaders(MultiMap headers) {
        CLIENT_HEADERS_REMOVED.forEach(headers::remove);
        List<String> forwarded = headers.names().stream()
                .filter(name -> name.regionMatches(true, 0, X_FORWARDED_PREFIX, 0, X_FORWARDED_PREFIX.length())).toList();
        forwarded.forEach(headers::remove);
    }

    private void failure(RoutingContext ctx) {
        int status = ctx.statusCode() >= 400 ? ctx.statusCode() : 500;
        if (status >= 500) {
            Log.errorf(ctx.failure(), "Request failed with %d (%s)", status, ctx.request().method());
        }
        if (ctx.response().headWritten()) {
            ctx.response().reset();
        } else {
            String reason = HttpResponseStatus.valueOf(status).reasonPhrase().toLowerCase(Locale.ROOT);
            ErrorResponses.send(ctx.response(), status, reason);
        }
    }
}
