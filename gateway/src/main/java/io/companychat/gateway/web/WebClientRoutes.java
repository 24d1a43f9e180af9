package io.companychat.gateway.web;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Serves the web client at {@code /} (gateway/README.md, "Web client"). Its route comes after the services' routes
 * and before the gateway's 404: a path that a service owns never reaches it, and a path that names no file of the
 * client (or any method but GET and HEAD) still gets the gateway's {@code 404 {"message": "not found"}}.
 */
@ApplicationScoped
public class WebClientRoutes {

    private static final int ORDER = RouteConstants.ROUTE_ORDER_DEFAULT;

    /**
     * Only what the page uses: its own scripts, styles and images, and fetch and the chat socket to its own origin
     * (CSP Level 3 lets {@code 'self'} match ws: and wss: of the same host). No inline script or style, no framing.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    /** Every response is revalidated (a 304 when unchanged), so a new gateway version is picked up at the next load. */
    static final String CACHE_CONTROL = "no-cache";

    private final WebAssets assets;

    public WebClientRoutes(WebAssets assets) {
        this.assets = assets;
    }

    void init(@Observes Router router) {
        router.route().order(ORDER).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(this::serve);
    }

    private void serve(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        if (!WebAssets.isCandidate(path)) {
            ctx.next();
            return;
        }
        var cached = assets.cached(path);
        if (cached.isPresent()) {
            send(ctx, cached.get());
            return;
        }
        ctx.vertx().executeBlocking(() -> assets.load(path), false)
                .onSuccess(found -> found.ifPresentOrElse(asset -> send(ctx, asset), ctx::next))
                .onFailure(ctx::fail);
    }

    private static void send(RoutingContext ctx, WebAsset asset) {
        HttpServerResponse response = ctx.response();
        MultiMap headers = response.headers();
        headers.set(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL)
                .set(HttpHeaders.ETAG, asset.etag())
                .set("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .set("X-Content-Type-Options", "nosniff")
                .set("X-Frame-Options", "DENY")
                .set("Referrer-Policy", "no-referrer")
                .set("Cross-Origin-Opener-Policy", "same-origin");
        if (asset.matches(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
            response.setStatusCode(304).end();
            return;
        }
        headers.set(HttpHeaders.CONTENT_TYPE, asset.contentType());
        // A fresh buffer per response: a shared one would share its reader index between concurrent writes.
        response.end(Buffer.buffer(asset.bytes()));
    }
}
