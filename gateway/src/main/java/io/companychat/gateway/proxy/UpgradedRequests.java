package io.companychat.gateway.proxy;

import java.lang.reflect.Method;

import jakarta.inject.Singleton;

import io.quarkus.logging.Log;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.vertx.http.runtime.filters.QuarkusRequestWrapper;
import io.vertx.core.http.HttpServerRequest;

/**
 * Tells Quarkus's graceful shutdown that a tunnelled socket's upgrade request is over when its connection has
 * switched protocols.
 * <p>
 * On SIGTERM Quarkus waits, up to {@code QUARKUS_SHUTDOWN_TIMEOUT}, for the requests in flight, and it counts a
 * request as in flight until its response ends or the connection reports a close to the request. A connection that
 * switched protocols does neither, so once one socket had been tunnelled the gateway waited its whole timeout on
 * every SIGTERM. A tunnel's client connection is taken from Vert.x ({@link ClientConnection}), so nothing could report
 * its close to the request anyway; the request is marked done at the switch, and {@link SocketTunnels} itself holds
 * the shutdown until its tunnels are closed (a couple of seconds after their close frames).
 * <p>
 * Hand-written on purpose: Quarkus has no public hook for it (the request's done method of
 * {@link QuarkusRequestWrapper} is package-private), so it is called by reflection, registered for native
 * executables. Should a Quarkus version lose it, a warning is logged once and shutdown waits as it used to.
 * chat-service's sockets use common's {@code io.companychat.common.http.UpgradedRequests}, which ties the request's end
 * to its connection's close instead (the gateway does not depend on common: it would bring the database client and
 * token verification).
 */
@Singleton
@RegisterForReflection(targets = QuarkusRequestWrapper.class, methods = true, fields = false)
public class UpgradedRequests {

    private final Method done = requestDone();

    /** {@code request}, an upgrade whose connection has switched protocols, is no longer in flight. */
    public void endNow(HttpServerRequest request) {
        if (done != null
                && request.getCookie(QuarkusRequestWrapper.FAKE_COOKIE_NAME) instanceof QuarkusRequestWrapper.QuarkusCookie cookie) {
            end(cookie.getRequestWrapper());
        }
    }

    private void end(QuarkusRequestWrapper wrapper) {
        try {
            done.invoke(wrapper);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.debugf("Could not mark an upgraded request done: %s", e.toString());
        }
    }

    private static Method requestDone() {
        try {
            Method method = QuarkusRequestWrapper.class.getDeclaredMethod("done");
            method.setAccessible(true);
            return method;
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.warnf("Graceful shutdown will wait its whole timeout once a socket has been open: Quarkus's request-done"
                    + " hook is not reachable (%s)", e.toString());
            return null;
        }
    }
}
