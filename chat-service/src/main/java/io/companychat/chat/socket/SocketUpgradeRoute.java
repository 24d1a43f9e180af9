package io.companychat.chat.socket;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;

/**
 * Refuses upgrades past the replica's socket cap ({@link SocketCapacity}) before anything else looks at them, and
 * keeps the socket's upgrade request from being held for the socket's whole life.
 * <p>
 * With lazy HTTP authentication ({@code quarkus.http.auth.proactive=false}) Quarkus parks a
 * deferred identity in the routing context of every request. When websockets-next finds it at an
 * upgrade, it keeps the routing context in the connection's {@code SecuritySupport}, so that
 * {@code SecurityIdentity} could be resolved later, and with it everything the request holds: the
 * Netty and Vert.x requests and response, their headers, the parameter map, the forwarded-header
 * wrappers, micrometer's request metric and the token-bearing URI in several copies (~5 KB per
 * socket). The chat socket never uses {@code SecurityIdentity}: {@link SocketAuthenticator}
 * authenticates the upgrade itself and the connection carries the user in its user data. So the
 * deferred identity is dropped from the upgrade request, after the HTTP security filters (which
 * run at negative orders from -300 to -100) and before the websockets-next route (registered
 * without an order, so at 0 or above), and websockets-next keeps nothing of the request.
 */
@ApplicationScoped
public class SocketUpgradeRoute {

    /** After every security filter, before the endpoint's own route. */
    static final int ORDER = -1;
    /** Before the HTTP security filters (-300 to -100) and the token check ({@link SocketAuthenticator}): the cheapest refusal. */
    static final int CAPACITY_ORDER = -400;

    private final SocketCapacity capacity;

    public SocketUpgradeRoute(SocketCapacity capacity) {
        this.capacity = capacity;
    }

    void install(@Observes Router router) {
        router.route(ChatSocket.PATH).order(CAPACITY_ORDER).handler(ctx -> {
            if (capacity.refuses()) {
                // Retry-After 1: Phoenix clients back off on their own anyway; the next try may reach another replica.
                ctx.response().setStatusCode(503).putHeader(HttpHeaders.RETRY_AFTER, "1").end();
            } else {
                ctx.next();
            }
        });
        router.route(ChatSocket.PATH).order(ORDER).handler(ctx -> {
            ctx.remove(QuarkusHttpUser.DEFERRED_IDENTITY_KEY);
            ctx.next();
        });
    }
}
