package io.companychat.system;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Generates malformed and hostile requests for one public route, deterministically (fixed seed):
 * wrong JSON types for every field, missing and extra fields, wrong wrappers, huge and deeply
 * nested bodies, invalid UTF-8, injection strings, NUL characters, bad ids and cursors, wrong
 * content types, bad or missing tokens.
 */
final class HostileCorpus {

    static final long SEED = 8L;
    static final int MINIMUM_PER_ROUTE = 200;

    /** Over the services' 64K body limit. */
    static final String HUGE = "x".repeat(100_000);

    /** Hostile values as raw JSON fragments (some of them not valid JSON on purpose). */
    static final List<String> VALUES = List.of(
            "null", "true", "false", "0", "-1", "-0", "1.5", "1e400", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "123456789012345678901234567890",
            "\"\"", "\" \"", "\"\\t\\n\"", "\"\\u0000\"", "\"a\\u0000b\"", "\"' OR 1=1 --\"", "\"'; DROP TABLE users; --\"",
            "\"<script>alert(1)</script>\"", "\"\\\"><img src=x onerror=alert(1)>\"", "\"${jndi:ldap://127.0.0.1/x}\"",
            "\"{{7*7}}\"", "\"../../etc/passwd\"", "\"\\ud800\"", "\"\\u202e\\u00ff\"", "\"\\ud83d\\ude00\"", "\"1\"", "\"-1\"",
            "\"abc\"", "\"%00\"", "\"" + "x".repeat(4001) + "\"", "\"" + "y".repeat(60_000) + "\"", "\"" + HUGE + "\"",
            "[]", "{}", "[1,2,3]", "{\"a\":1}", "[\"a\"]", "NaN", "undefined", "'single'");

    /** Whole bodies that are not what any route expects; bytes, so that invalid UTF-8 can be sent. */
    static final List<byte[]> RAW_BODIES = List.of(
            utf8(""), utf8("null"), utf8("[]"), utf8("{}"), utf8("[{}]"), utf8("\"string\""), utf8("123"), utf8("true"),
            utf8("{"), utf8("}"), utf8("{\"a\":"), utf8("{'a':1}"), utf8("{a:1}"), utf8("{\"a\":1,}"),
            utf8("{\"a\":1}{\"b\":2}"), utf8("{\"a\":1} trailing"), utf8("/* comment */ {}"), utf8("\uFEFF{}"),
            utf8("<?xml version=\"1.0\"?><user><name>x</name></user>"), utf8("name=x&email=y"), utf8("\\"),
            utf8("[".repeat(1000) + "]".repeat(1000)), utf8("{\"a\":".repeat(1000) + "1" + "}".repeat(1000)),
            utf8("[".repeat(2000) + "]".repeat(2000)), utf8("[".repeat(30_000)),
            utf8("{\"" + HUGE + "\":1}"), utf8("[" + "1,".repeat(60_000) + "1]"),
            bytes("{\"a\":\"", new byte[] { (byte) 0xC3, 0x28 }, "\"}"),
            bytes("{\"a\":\"", new byte[] { (byte) 0xFF, (byte) 0xFE }, "\"}"),
            bytes("{\"a\":\"", new byte[] { (byte) 0xC0, (byte) 0xAF }, "\"}"),
            bytes("{\"a\":\"", new byte[] { (byte) 0xED, (byte) 0xA0, (byte) 0x80 }, "\"}"),
            bytes("", new byte[] { (byte) 0x80, (byte) 0x81, 0x00, 0x01 }, ""),
            bytes("{\"a\":1", new byte[] { 0x00 }, "}"));

    static final List<String> CONTENT_TYPES = List.of("text/plain", "application/xml", "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded", "application/json; charset=ISO-8859-1", "application/json; charset=UTF-16",
            "application/octet-stream", "%%%", "application/json, text/plain", "");

    /** Path ids, already percent-encoded where needed. */
    static final List<String> IDS = List.of("0", "-1", "-0", "1.5", "abc", "9223372036854775807", "9223372036854775808",
            "99999999999999999999999", "1e3", "0x10", "+1", "%20", "%00", "1%00", "%27%20OR%201%3D1%20--",
            "1%27%3B%20DROP%20TABLE%20users%3B%20--", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%2e%2e", "%2F", "%5C",
            "1,2", "null", "true", "%EF%BC%91", "%C3%28", "%FF", "00000000000000000001", "%25", "me", "%7B%7D");

    /** Values for limit/after/before, percent-encoded. */
    static final List<String> CURSORS = List.of("0", "-1", "101", "1000000", "9223372036854775807", "9223372036854775808",
            "-9223372036854775809", "abc", "1.5", "", "%00", "%27%20OR%201%3D1%20--", "%3Cscript%3E", "1e2", "%C3%28",
            "null", "%5B%5D", "%2B5", "0x10", "%20", "eyJpZCI6MX0", "%7B%22id%22%3A1%7D");

    static final List<String> ACCEPTS = List.of("application/xml", "text/html", "*/*", "application/json;q=0", "image/png");

    private HostileCorpus() {
    }

    /** A request to send: what it is, for the report. */
    record Request(String summary, String method, String path, String contentType, byte[] body, String authorization,
            Map<String, String> headers) {
    }

    /** The shape of one route's body: an optional wrapper object and its fields with valid values (raw JSON). */
    record BodyShape(String wrapper, Map<String, String> fields) {

        String render(Map<String, String> fieldValues) {
            StringBuilder inner = new StringBuilder("{");
            fieldValues.forEach((name, value) -> {
                if (inner.length() > 1) {
                    inner.append(',');
                }
                inner.append('"').append(name).append("\":").append(value);
            });
            inner.append('}');
            return wrapper == null ? inner.toString() : "{\"" + wrapper + "\":" + inner + "}";
        }
    }

    /**
     * Everything for one route. {@code path} makes the path from an id segment (or ignores it);
     * {@code validBody} gives a fresh valid body's field values (for unique emails); {@code shape} may be null.
     */
    static List<Request> forRoute(String method, IntFunction<String> path, BodyShape shape,
            IntFunction<Map<String, String>> validFields, String token, List<String> queryParameters, boolean hasId) {
        Random random = new Random(SEED ^ (method + path.apply(0)).hashCode());
        List<Request> out = new ArrayList<>();
        String base = path.apply(-1);
        String bearer = "Bearer " + token;
        byte[] validBody = shape == null ? new byte[0] : utf8(shape.render(validFields.apply(0)));
        String bodyType = shape == null ? null : "application/json";
        int[] n = { 1 };

        for (Map.Entry<String, String> auth : authVariants(token).entrySet()) {
            out.add(new Request("authorization " + auth.getKey(), method, base, bodyType, validBody, auth.getValue(), Map.of()));
        }
        for (byte[] raw : RAW_BODIES) {
            out.add(new Request("raw body " + preview(raw), method, base, "application/json", raw, bearer, Map.of()));
        }
        for (String contentType : CONTENT_TYPES) {
            out.add(new Request("content type '" + contentType + "' with a JSON body", method, base, contentType, validBody,
                    bearer, Map.of()));
            out.add(new Request("content type '" + contentType + "' with an XML body", method, base, contentType,
                    RAW_BODIES.get(18), bearer, Map.of()));
        }
        out.add(new Request("no content type", method, base, null, validBody, bearer, Map.of()));
        for (String accept : ACCEPTS) {
            out.add(new Request("accept " + accept, method, base, bodyType, validBody, bearer, Map.of("Accept", accept)));
        }
        if (shape != null) {
            for (String field : shape.fields().keySet()) {
                for (String value : VALUES) {
                    Map<String, String> fields = validFields.apply(n[0]++);
                    fields.put(field, value);
                    out.add(new Request(field + " = " + preview(utf8(value)), method, base, "application/json",
                            utf8(shape.render(fields)), bearer, Map.of()));
                }
                Map<String, String> missing = validFields.apply(n[0]++);
                missing.remove(field);
                out.add(new Request("missing " + field, method, base, "application/json", utf8(shape.render(missing)), bearer,
                        Map.of()));
            }
            Map<String, String> extra = validFields.apply(n[0]++);
            extra.put("id", "1");
            extra.put("password", "\"chosen-by-client\"");
            extra.put("admin", "true");
            extra.put("sender_id", "1");
            out.add(new Request("extra fields", method, base, "application/json", utf8(shape.render(extra)), bearer, Map.of()));
            if (shape.wrapper() != null) {
                for (String value : VALUES) {
                    out.add(new Request(shape.wrapper() + " = " + preview(utf8(value)), method, base, "application/json",
                            utf8("{\"" + shape.wrapper() + "\":" + value + "}"), bearer, Map.of()));
                }
                out.add(new Request("fields without the wrapper", method, base, "application/json",
                        utf8(new BodyShape(null, Map.of()).render(validFields.apply(n[0]++))), bearer, Map.of()));
            }
            out.add(new Request("body as an array", method, base, "application/json",
                    utf8("[" + shape.render(validFields.apply(n[0]++)) + "]"), bearer, Map.of()));
        }
        if (hasId) {
            for (String id : IDS) {
                out.add(new Request("id " + id, method, path.apply(IDS.indexOf(id)), bodyType, validBody, bearer, Map.of()));
            }
            out.add(new Request("id " + IDS.get(0) + " without token", method, path.apply(0), bodyType, validBody, null, Map.of()));
        }
        for (String parameter : queryParameters) {
            for (String value : CURSORS) {
                out.add(new Request(parameter + "=" + value, method, base + "?" + parameter + "=" + value, bodyType, validBody,
                        bearer, Map.of()));
            }
            out.add(new Request(parameter + " twice", method, base + "?" + parameter + "=1&" + parameter + "=2", bodyType,
                    validBody, bearer, Map.of()));
        }
        // Seeded random mixes up to the minimum: several fields and parameters hostile at once.
        List<String> knownParameters = queryParameters.isEmpty() ? List.of("limit", "after", "x") : queryParameters;
        while (out.size() < MINIMUM_PER_ROUTE + 20) {
            String parameter = knownParameters.get(random.nextInt(knownParameters.size()));
            String query = "?" + parameter + "=" + CURSORS.get(random.nextInt(CURSORS.size())) + "&"
                    + knownParameters.get(random.nextInt(knownParameters.size())) + "=" + CURSORS.get(random.nextInt(CURSORS.size()));
            if (shape == null) {
                byte[] raw = RAW_BODIES.get(random.nextInt(RAW_BODIES.size()));
                out.add(new Request("mix " + query + " body " + preview(raw), method, base + query, "application/json", raw,
                        bearer, Map.of()));
            } else {
                Map<String, String> fields = validFields.apply(n[0]++);
                List<String> names = new ArrayList<>(fields.keySet());
                int hostile = 1 + random.nextInt(names.size());
                for (int i = 0; i < hostile; i++) {
                    fields.put(names.get(random.nextInt(names.size())), VALUES.get(random.nextInt(VALUES.size())));
                }
                String rendered = shape.render(fields);
                out.add(new Request("mix " + preview(utf8(rendered)), method, base, "application/json", utf8(rendered),
                        bearer, Map.of()));
            }
        }
        return out;
    }

    static Map<String, String> authVariants(String token) {
        Map<String, String> auth = new LinkedHashMap<>();
        auth.put("none", null);
        auth.put("empty", "");
        auth.put("'Bearer'", "Bearer");
        auth.put("'Bearer '", "Bearer ");
        auth.put("garbage", "Bearer garbage");
        auth.put("three empty parts", "Bearer ..");
        auth.put("fake three parts", "Bearer a.b.c");
        auth.put("injection", "Bearer ' OR 1=1 --");
        auth.put("script", "Bearer <script>alert(1)</script>");
        auth.put("basic", "Basic dXNlcjpwYXNz");
        auth.put("lower-case scheme", "bearer " + token);
        auth.put("token twice", "Bearer " + token + " " + token);
        auth.put("truncated token", "Bearer " + token.substring(0, token.length() - 5));
        auth.put("8 KB token", "Bearer " + "a".repeat(8_000));
        auth.put("valid", "Bearer " + token);
        return auth;
    }

    /** Malformed socket frames (text), each answered on its own by the server. */
    static List<String> socketFrames(long conversation, long otherUser) {
        List<String> frames = new ArrayList<>();
        frames.addAll(List.of("", " ", "hello", "{", "[", "]", "null", "1", "\"x\"", "{}", "[]", "true", "[1,2,3,4,5,]",
                "NaN", "{\"topic\":\"room:chat\",\"event\":\"phx_join\"}", "\\", "<script>alert(1)</script>",
                "' OR 1=1 --", "\u0000", "[\"1\",\"2\",\"room:chat\",\"phx_join\",{}"));
        for (int arity = 0; arity <= 7; arity++) {
            if (arity != 5) {
                List<String> items = new ArrayList<>(List.of("\"1\"", "\"2\"", "\"room:chat\"", "\"heartbeat\"", "{}", "{}", "{}"));
                frames.add("[" + String.join(",", items.subList(0, arity)) + "]");
            }
        }
        List<String> notStrings = List.of("null", "1", "-1", "1.5", "true", "{}", "[]", "[\"room:chat\"]", "{\"a\":\"b\"}");
        for (String value : notStrings) {
            frames.add("[\"1\",\"2\"," + value + ",\"phx_join\",{}]");
            frames.add("[\"1\",\"2\",\"room:chat\"," + value + ",{}]");
            frames.add("[\"1\",\"2\",\"phoenix\"," + value + ",{}]");
            if (value.startsWith("{") || value.startsWith("[")) {
                frames.add("[" + value + ",\"2\",\"phoenix\",\"heartbeat\",{}]");
                frames.add("[\"1\"," + value + ",\"phoenix\",\"heartbeat\",{}]");
            }
        }
        List<String> strings = List.of("\"\"", "\" \"", "\"room:other\"", "\"room:chat:1\"", "\"ROOM:CHAT\"", "\"phoenix:x\"",
                "\"' OR 1=1 --\"", "\"'; DROP TABLE users; --\"", "\"<script>alert(1)</script>\"", "\"\\u0000\"",
                "\"\\ud800\"", "\"" + "t".repeat(10_000) + "\"", "\"room:chat\\u0000\"", "\"users:1\"");
        for (String value : strings) {
            frames.add("[\"1\",\"2\"," + value + ",\"phx_join\",{}]");
            frames.add("[\"1\",\"2\",\"room:chat\"," + value + ",{}]");
            frames.add("[\"1\",\"2\",\"phoenix\"," + value + ",{}]");
        }
        for (String event : List.of("phx_reply", "phx_error", "phx_close", "receive_msg", "PHX_JOIN", "send_msg ", "Send_Msg")) {
            frames.add("[\"1\",\"2\",\"room:chat\",\"" + event + "\",{}]");
        }
        for (String payload : List.of("null", "1", "\"x\"", "[]", "[1]", "true")) {
            frames.add("[\"1\",\"2\",\"room:chat\",\"send_msg\"," + payload + "]");
        }
        for (String since : List.of("-1", "\"abc\"", "1.5", "{}", "[]", "\"' OR 1=1 --\"", "9223372036854775808", "true")) {
            frames.add("[\"1\",\"2\",\"room:chat\",\"phx_join\",{\"since\":" + since + "}]");
        }
        // send_msg payloads: every field of a wrong type or value; never a valid message to a real conversation.
        String validMessage = "\"hostile\"";
        for (String value : VALUES) {
            if (value.length() > 70_000) {
                continue;
            }
            frames.add(sendMsg(value, Long.toString(otherUser), validMessage, null));
            frames.add(sendMsg(Long.toString(conversation), value, "1", null));
            if (!isAcceptableContent(value)) {
                frames.add(sendMsg(Long.toString(conversation), Long.toString(otherUser), value, null));
            }
            frames.add(sendMsg("999999999", Long.toString(otherUser), value, null));
            frames.add(sendMsg(Long.toString(conversation), Long.toString(otherUser), "[]", value));
        }
        frames.add(sendMsg(null, null, validMessage, null));
        frames.add(sendMsg(Long.toString(conversation), Long.toString(otherUser), null, null));
        frames.add("[\"1\",\"2\",\"room:chat\",\"send_msg\",{\"conv\":" + conversation + ",\"message\":\" \",\"extra\":{\"a\":[1]}}]");
        return frames;
    }

    /** A string that chat-service would store as a message (so the corpus never sends it to a real conversation). */
    private static boolean isAcceptableContent(String value) {
        return value.startsWith("\"") && !value.equals("\"\"") && !value.equals("\" \"") && !value.equals("\"\\t\\n\"")
                && value.length() <= 4002;
    }

    private static String sendMsg(String conv, String user, String message, String clientId) {
        StringBuilder payload = new StringBuilder("{");
        if (conv != null) {
            payload.append("\"conv\":").append(conv).append(',');
        }
        if (user != null) {
            payload.append("\"user\":").append(user).append(',');
        }
        if (clientId != null) {
            payload.append("\"client_id\":").append(clientId).append(',');
        }
        payload.append("\"message\":").append(message).append('}');
        return "[\"1\",\"2\",\"room:chat\",\"send_msg\"," + payload + "]";
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String before, byte[] middle, String after) {
        byte[] start = utf8(before);
        byte[] end = utf8(after);
        byte[] all = new byte[start.length + middle.length + end.length];
        System.arraycopy(start, 0, all, 0, start.length);
        System.arraycopy(middle, 0, all, start.length, middle.length);
        System.arraycopy(end, 0, all, start.length + middle.length, end.length);
        return all;
    }

    static String preview(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).replace("\u0000", "\\0");
        return body.length <= 60 ? "'" + text + "'" : "'" + text.substring(0, Math.min(50, text.length())) + "…' ("
                + body.length + " bytes)";
    }
}
