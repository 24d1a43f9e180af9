package io.companychat.gateway.telemetry;

import java.util.Collection;

import jakarta.enterprise.context.ApplicationScoped;

import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.quarkus.opentelemetry.runtime.propagation.TextMapPropagatorCustomizer;

/**
 * The gateway starts every trace itself: what a client sends as {@code traceparent}, {@code tracestate} or
 * {@code baggage} is never read, so no client can force sampling (and the cost of a trace on every service) or join
 * a trace of its choosing. The only place the gateway extracts a context is its public port; injecting into the
 * requests it sends on (proxied REST calls, socket upgrades) works as configured. GatewayRoutes also removes the
 * client's headers before they are copied to the services.
 */
@ApplicationScoped
public class ClientTraceContextIgnored implements TextMapPropagatorCustomizer {

    @Override
    public TextMapPropagator customize(TextMapPropagatorCustomizer.Context context) {
        return new InjectOnly(context.propagator());
    }

    /** ({@code Context} here is the customizer's; OpenTelemetry's is spelled out.) */
    private record InjectOnly(TextMapPropagator delegate) implements TextMapPropagator {

        @Override
        public Collection<String> fields() {
            return delegate.fields();
        }

        @Override
        public <C> void inject(io.opentelemetry.context.Context context, C carrier, TextMapSetter<C> setter) {
            delegate.inject(context, carrier, setter);
        }

        @Override
        public <C> io.opentelemetry.context.Context extract(io.opentelemetry.context.Context context, C carrier, TextMapGetter<C> getter) {
            return context;
        }
    }
}
