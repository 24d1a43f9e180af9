package io.companychat.system;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One HTTP exchange of a fault test, as the client saw it: the status (or {@link #HUNG} when no answer
 * came within the client's patience, {@link #BROKEN} when the connection broke), the body, the
 * {@code Retry-After} header and how long it took. Fault tests need the failures as data, not as
 * exceptions, to compare them with what was stored.
 */
record Exchange(int status, String body, String retryAfter, long millis, long startedAtMillis) {

    static final int HUNG = -2;
    static final int BROKEN = -1;
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3)).build();

    static Exchange post(String url, String token, Object body, Duration patience) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(patience)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(body)));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request.build());
    }

    static Exchange get(String url, String token, Duration patience) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(patience).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request.build());
    }

    private static Exchange send(HttpRequest request) {
        long startedAt = System.currentTimeMillis();
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Exchange(response.statusCode(), response.body(),
                    response.headers().firstValue("Retry-After").orElse(null), elapsed(start), startedAt);
        } catch (HttpTimeoutException e) {
            return new Exchange(HUNG, e.toString(), null, elapsed(start), startedAt);
        } catch (IOException e) {
            return new Exchange(BROKEN, e.toString(), null, elapsed(start), startedAt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    JsonNode json() {
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON (" + status + "): " + body, e);
        }
    }

    /** A JSON body with a non-blank {@code message}, as API.md's errors have. */
    boolean hasErrorMessage() {
        try {
            JsonNode message = JSON.readTree(body).get("message");
            return message != null && message.isTextual() && !message.asText().isBlank();
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return status + " after " + millis + " ms: " + (body == null ? "" : body.substring(0, Math.min(body.length(), 200)));
    }

    static JsonNode read(String body) {
        try {
            return JSON.readTree(body);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    static String json(Object body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static long elapsed(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** The single number a query returns, on a direct connection to the test database (not through the relay). */
    static long count(RunningSystem system, String sql, Object... parameters) {
        try (Connection connection = system.database().connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /** Rows of two columns (a key and a number) as a map, e.g. content → number of copies. */
    static Map<String, Long> counts(RunningSystem system, String sql, Object... parameters) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        try (Connection connection = system.database().connect(); PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    counts.put(rows.getString(1), rows.getLong(2));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
        return counts;
    }

    /** Kills every backend of the test database but the caller's: what a PostgreSQL restart does to the services. */
    static int terminateBackends(RunningSystem system) {
        return (int) count(system, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                + "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    }

    static Map<String, Object> user(String name, String email) {
        return Map.of("user", Map.of("name", name, "subname", "Tester", "email", email, "job", "engineer"));
    }
}
