package io.companychat.system;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An OTLP/HTTP trace receiver in the test JVM: the services export their spans here ({@code http/protobuf}, the
 * protocol Quarkus's exporter speaks besides gRPC). The protobuf messages are read by a few lines of wire-format
 * decoding rather than the generated OTLP classes, which this module does not have. Spans are kept only while a test
 * records (the other system tests make spans too, far more than any test needs); every export is answered 200.
 */
final class OtlpReceiver implements AutoCloseable {

    /** Kept at most while recording: a bound, should a test forget to stop. */
    private static final int MAX_SPANS = 100_000;
    private static final HexFormat HEX = HexFormat.of();

    /** Span kinds as OTLP numbers them. */
    static final int SERVER = 2;
    static final int CLIENT = 3;

    private final HttpServer server;
    private final ConcurrentLinkedQueue<Span> spans = new ConcurrentLinkedQueue<>();
    private final AtomicInteger kept = new AtomicInteger();
    private final AtomicInteger exports = new AtomicInteger();
    private volatile boolean recording;
    /** The last export that could not be read, for failure messages. */
    private volatile RuntimeException decodingFailure;

    private OtlpReceiver(HttpServer server) {
        this.server = server;
    }

    static OtlpReceiver start() {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            OtlpReceiver receiver = new OtlpReceiver(server);
            server.createContext("/", receiver::handle);
            server.setExecutor(Executors.newFixedThreadPool(2, runnable -> {
                Thread thread = new Thread(runnable, "otlp-receiver");
                thread.setDaemon(true);
                return thread;
            }));
            server.start();
            return receiver;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the services get as OTEL_EXPORTER_OTLP_ENDPOINT. */
    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void startRecording() {
        spans.clear();
        kept.set(0);
        recording = true;
    }

    void stopRecording() {
        recording = false;
    }

    List<Span> spans() {
        return List.copyOf(spans);
    }

    /** What a failure message says of the exports received so far, recording or not. */
    String summary() {
        return exports.get() + " exports received, " + spans.size() + " spans recorded"
                + (decodingFailure == null ? "" : ", the last unreadable: " + decodingFailure);
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body;
            try (InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            exports.incrementAndGet();
            if (recording && exchange.getRequestURI().getPath().endsWith("/v1/traces")) {
                try {
                    for (Span span : decode(body)) {
                        if (kept.incrementAndGet() <= MAX_SPANS) {
                            spans.add(span);
                        }
                    }
                } catch (RuntimeException e) {
                    decodingFailure = e;
                }
            }
            // an empty ExportTraceServiceResponse
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, -1);
        }
    }

    /** One span as exported: ids in hex (the parent's empty for a root span), every attribute value as text. */
    record Span(String service, String traceId, String spanId, String parentSpanId, String name, int kind,
            Map<String, String> attributes) {

        String attribute(String key) {
            return attributes.get(key);
        }

        @Override
        public String toString() {
            return service + " " + (kind == SERVER ? "SERVER" : kind == CLIENT ? "CLIENT" : "kind " + kind) + " '" + name
                    + "' " + traceId + "/" + spanId + " parent " + (parentSpanId.isEmpty() ? "-" : parentSpanId) + " "
                    + attributes;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }
    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2 }
    // Resource { repeated KeyValue attributes = 1 }; ScopeSpans { repeated Span spans = 2 }
    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6;
    //        repeated KeyValue attributes = 9 }
    // KeyValue { string key = 1; AnyValue value = 2 }; AnyValue { string = 1, bool = 2, int = 3, double = 4, ... }

    static List<Span> decode(byte[] request) {
        List<Span> result = new ArrayList<>();
        Wire export = new Wire(request, 0, request.length);
        while (export.more()) {
            int field = export.tag();
            if (field == 1) {
                Wire resourceSpans = export.message();
                String service = "";
                List<Wire> scopes = new ArrayList<>();
                while (resourceSpans.more()) {
                    int f = resourceSpans.tag();
                    if (f == 1) {
                        Map<String, String> resource = attributes(resourceSpans.message(), 1);
                        service = resource.getOrDefault("service.name", "");
                    } else if (f == 2) {
                        scopes.add(resourceSpans.message());
                    } else {
                        resourceSpans.skip();
                    }
                }
                for (Wire scope : scopes) {
                    while (scope.more()) {
                        if (scope.tag() == 2) {
                            result.add(span(service, scope.message()));
                        } else {
                            scope.skip();
                        }
                    }
                }
            } else {
                export.skip();
            }
        }
        return result;
    }

    private static Span span(String service, Wire span) {
        String traceId = "", spanId = "", parent = "", name = "";
        int kind = 0;
        Map<String, String> attributes = new LinkedHashMap<>();
        while (span.more()) {
            switch (span.tag()) {
                case 1 -> traceId = HEX.formatHex(span.bytes());
                case 2 -> spanId = HEX.formatHex(span.bytes());
                case 4 -> parent = HEX.formatHex(span.bytes());
                case 5 -> name = span.string();
                case 6 -> kind = (int) span.varint();
                case 9 -> keyValue(span.message(), attributes);
                default -> span.skip();
            }
        }
        return new Span(service, traceId, spanId, parent, name, kind, attributes);
    }

    private static Map<String, String> attributes(Wire message, int field) {
        Map<String, String> attributes = new LinkedHashMap<>();
        while (message.more()) {
            if (message.tag() == field) {
                keyValue(message.message(), attributes);
            } else {
                message.skip();
            }
        }
        return attributes;
    }

    private static void keyValue(Wire keyValue, Map<String, String> into) {
        String key = "", value = "";
        while (keyValue.more()) {
            int f = keyValue.tag();
            if (f == 1) {
                key = keyValue.string();
            } else if (f == 2) {
                value = anyValue(keyValue.message());
            } else {
                keyValue.skip();
            }
        }
        into.put(key, value);
    }

    /** Scalars as text; arrays and maps as their raw bytes read as text (enough to search them for a secret). */
    private static String anyValue(Wire value) {
        String text = "";
        while (value.more()) {
            switch (value.tag()) {
                case 1 -> text = value.string();
                case 2 -> text = Boolean.toString(value.varint() != 0);
                case 3 -> text = Long.toString(value.varint());
                case 4 -> text = Double.toString(Double.longBitsToDouble(value.fixed64()));
                default -> text = new String(value.rawValue(), StandardCharsets.UTF_8);
            }
        }
        return text;
    }

    /** A reader over one protobuf message. */
    private static final class Wire {
        private final byte[] data;
        private int position;
        private final int end;
        private int wireType;

        Wire(byte[] data, int offset, int end) {
            this.data = data;
            this.position = offset;
            this.end = end;
        }

        boolean more() {
            return position < end;
        }

        int tag() {
            long tag = varint();
            wireType = (int) (tag & 7);
            return (int) (tag >>> 3);
        }

        long varint() {
            long result = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = data[position++];
                result |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    return result;
                }
            }
            throw new IllegalArgumentException("malformed varint");
        }

        long fixed64() {
            long result = 0;
            for (int i = 0; i < 8; i++) {
                result |= (long) (data[position++] & 0xff) << (8 * i);
            }
            return result;
        }

        Wire message() {
            int length = (int) varint();
            Wire inner = new Wire(data, position, position + length);
            position += length;
            return inner;
        }

        byte[] bytes() {
            int length = (int) varint();
            byte[] bytes = java.util.Arrays.copyOfRange(data, position, position + length);
            position += length;
            return bytes;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        /** The value of the field just tagged, whatever its type, as bytes. */
        byte[] rawValue() {
            if (wireType == 2) {
                return bytes();
            }
            int start = position;
            skip();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(data, start, position - start);
            return out.toByteArray();
        }

        void skip() {
            switch (wireType) {
                case 0 -> varint();
                case 1 -> position += 8;
                case 2 -> {
                    // not "position += varint()": that adds the length to the position from before the length was read
                    int length = (int) varint();
                    position += length;
                }
                case 5 -> position += 4;
                default -> throw new IllegalArgumentException("unsupported wire type " + wireType);
            }
        }
    }
}
