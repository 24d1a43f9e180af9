package io.companychat.gateway.proxy;

import io.companychat.gateway.error.ErrorResponses;
import io.companychat.gateway.routing.PathPolicy;
import io.vertx.core.Future;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;

/**
 * Sends the normalized path on, and replaces the empty 502 that ReverseProxy produces when the service cannot be
 * reached with the JSON answer. Plain HTTP only: ReverseProxy runs no interceptor for WebSocket upgrades.
 */
final class ForwardingInterceptor implements ProxyInterceptor {

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
        if (Boolean.TRUE.equals(context.get(ORIGIN_FAILED, Boolean.class))) {
            ProxyResponse response = context.response();
            response.setStatusCode(ErrorResponses.UNAVAILABLE_STATUS);
            ErrorResponses.addUnavailableHeaders(response.headers());
            response.setBody(Body.body(ErrorResponses.body(ErrorResponses.unavailableMessage(serviceName))));
        }
        return context.sendResponse();
    }
}
