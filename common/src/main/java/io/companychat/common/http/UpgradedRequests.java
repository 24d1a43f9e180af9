package io.companychat.common.http;

import java.lang.reflect.Method;

import jakarta.inject.Singleton;

import io.quarkus.logging.Log;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.vertx.http.runtime.filters.QuarkusRequestWrapper;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Lets Quarkus's graceful shutdown see an upgraded request (a WebSocket) end when its connection closes.
 * <p>
 * On SIGTERM Quarkus waits, up to {@code QUARKUS_SHUTDOWN_TIMEOUT}, for the requests in flight, and it counts a
 * request as in flight until its response ends or the connection reports a close to the request. A connection that
 * switched protocols does neither: once one socket had been opened, chat-service and the gateway waited the whole
 * timeout (45 s and 30 s deployed) on every SIGTERM, although they close their sockets within seconds of it. Here
 * the request's end is tied to its connection's close: a socket counts as in flight until it is closed, and the
 * service exits as soon as its sockets and requests are done.
 * <p>
 * Hand-written on purpose: Quarkus has no public hook for it (the request's done method of
 * {@link QuarkusRequestWrapper} is package-private), so it is called by reflection, registered for native
 * executables. Should a Quarkus version lose it, a warning is logged once and shutdown waits as it used to.
 * The gateway, which does not depend on common, has a class of its own for its tunnels (it ends their requests at the
 * switch, since it takes their connections from Vert.x); both call the same hook.
 */
@Singleton
@RegisterForReflection(targets = QuarkusRequestWrapper.class, methods = true, fields = false)
public class UpgradedRequests {

    private final Method done = requestDone();

    /**
     * From now on, {@code request} (an upgrade being accepted) is in flight until its connection closes; a request
     * refused instead ends with its response as any other.
     */
    public void endWithConnection(HttpServerRequest request) {
        if (done == null
                || !(request.getCookie(QuarkusRequestWrapper.FAKE_COOKIE_NAME) instanceof QuarkusRequestWrapper.QuarkusCookie cookie)
                || !(request.connection() instanceof ConnectionBase connection)) {
            return;
        }
        QuarkusRequestWrapper wrapper = cookie.getRequestWrapper();
        // the channel's own close: whatever Vert.x object serves the connection after the switch
        connection.channel().closeFuture().addListener(closed -> end(wrapper));
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
