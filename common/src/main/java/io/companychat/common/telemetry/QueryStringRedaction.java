package io.companychat.common.telemetry;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;

/**
 * Keeps query strings out of every span: chat sockets carry the token in {@code ?token=}, searches the searched words
 * in {@code ?q=}, and a trace backend is read by more people than the logs. The HTTP instrumentation records the
 * query at the span's start ({@code url.query} on server spans, inside {@code url.full} on client spans); this
 * processor runs right after and overwrites them, before any exporter can see the span (exporters only get it at
 * its end). An attribute cannot be removed from a started span, so the query's attribute says it was redacted.
 * Quarkus adds every {@code SpanProcessor} bean to the tracer provider. The gateway has a copy of this class (it
 * does not depend on common).
 */
@ApplicationScoped
public class QueryStringRedaction implements SpanProcessor {

    public static final String REDACTED = "[redacted]";

    /** Attributes that hold only a query string. */
    private static final List<AttributeKey<String>> QUERIES = List.of(AttributeKey.stringKey("url.query"));
    /** Attributes that hold a URL or request target, which may end in a query string. */
    private static final List<AttributeKey<String>> URLS = List.of(AttributeKey.stringKey("url.full"),
            AttributeKey.stringKey("http.url"), AttributeKey.stringKey("http.target"), AttributeKey.stringKey("url.original"));

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
        for (AttributeKey<String> key : QUERIES) {
            if (span.getAttribute(key) != null) {
                span.setAttribute(key, REDACTED);
            }
        }
        for (AttributeKey<String> key : URLS) {
            String url = span.getAttribute(key);
            int query = url == null ? -1 : url.indexOf('?');
            if (query >= 0) {
                span.setAttribute(key, url.substring(0, query));
            }
        }
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
    }

    @Override
    public boolean isEndRequired() {
        return false;
    }
}
