package io.companychat.gateway.proxy;

import io.companychat.gateway.error.ErrorResponses;
import io.companychat.gateway.routing.PathPolicy;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;

/**
 * Sends the normalized path on, gathers small response bodies so that they leave in one write ({@link BodyGathering}),
 * and replaces the empty 502 that ReverseProxy produces when the service cannot be reached with the JSON answer.
 * Plain HTTP only: ReverseProxy runs no interceptor for WebSocket upgrades.
 */
final class ForwardingInterceptor implements ProxyInterceptor {

    /**
     * Bodies up to this size are gathered before the response is written; larger ones (a declared length above it,
     * or a chunked body that grows past it) stream through as they come. Bounds what a response in flight holds.
     */
    static final int MAX_GATHERED_BYTES = 64 * 1024;

    private static final String ORIGIN_FAILED = ForwardingInterceptor.class.getName() + ".originFailed";

    private final String serviceName;

    ForwardingInterceptor(String serviceName) {
        this.serviceName = serviceName;
    }

    @Override
    public Future<ProxyResponse> handleProxyRequest(ProxyContext context) {
        ProxyRequest request = context.request();
        request.setURI(PathPolicy.forwardedUri(request.proxiedRequest()));
        // ReverseProxy recovers from this failure with an empty 502 and then calls handleProxyResponse; the mark tells
        // that 502 apart from one the service sent itself, which passes through untouched.
        return context.sendRequest().recover(failure -> {
            context.set(ORIGIN_FAILED, Boolean.TRUE);
            return Future.failedFuture(failure);
        });
    }

    @Override
    public Future<Void> handleProxyResponse(ProxyContext context) {
        ProxyResponse response = context.response();
        if (Boolean.TRUE.equals(context.get(ORIGIN_FAILED, Boolean.class))) {
            unavailable(response);
            return context.sendResponse();
        }
        if (!gathered(context.request(), response)) {
            return context.sendResponse();
        }
        return BodyGathering.gather(response.getBody(), MAX_GATHERED_BYTES).transform(gathered -> {
            if (gathered.succeeded()) {
                response.setBody(gathered.result());
            } else {
                // The service went away within the body: nothing of it has reached the client, which gets the 502.
                response.release();
                unavailable(response);
            }
            return context.sendResponse();
        });
    }

    /**
     * Whether the body is gathered: one that may be small (no length declared, or a small one) and is really sent (a
     * HEAD's Content-Length, and a 204's or 304's, describe a body that does not follow).
     */
    private static boolean gathered(ProxyRequest request, ProxyResponse response) {
        Body body = response.getBody();
        int status = response.getStatusCode();
        return body != null && body.length() != 0 && body.length() <= MAX_GATHERED_BYTES
                && request.getMethod() != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
    }

    private void unavailable(ProxyResponse response) {
        response.setStatusCode(ErrorResponses.UNAVAILABLE_STATUS).setStatusMessage(null);
        ErrorResponses.addUnavailableHeaders(response.headers());
        response.setBody(Body.body(ErrorResponses.body(ErrorResponses.unavailableMessage(serviceName))));
    }
}
