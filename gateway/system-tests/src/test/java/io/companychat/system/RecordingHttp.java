package io.companychat.system;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Plain HTTP calls with the path sent as written (no encoding, no normalisation by a client library), every answer
 * kept so that a test can look through all it was told afterwards (e.g. for leaked secrets).
 */
final class RecordingHttp {

    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Answer> answers = new ArrayList<>();

    /** {@code method base+path}, with a bearer token and a JSON body when given, and any extra headers. */
    synchronized Answer call(String method, String base, String path, String token, String jsonBody,
            Map<String, String> headers) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
                .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
        if (jsonBody != null) {
            builder.header("Content-Type", "application/json");
        }
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        headers.forEach(builder::header);
        String what = method + " " + path;
        Answer answer;
        try {
            HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            answer = new Answer(what, response.statusCode(), response.headers().map().toString(), response.body());
        } catch (Exception e) {
            answer = new Answer(what, -1, "", e.toString());
        }
        answers.add(answer);
        return answer;
    }

    Answer call(String method, String base, String path, String token, String jsonBody) {
        return call(method, base, path, token, jsonBody, Map.of());
    }

    synchronized List<Answer> answers() {
        return List.copyOf(answers);
    }

    /** One answer: what was asked, the status (-1 when no answer came), the headers and the body. */
    record Answer(String request, int status, String headers, String body) {

        @Override
        public String toString() {
            String shown = body.length() <= 200 ? body : body.substring(0, 190) + "…";
            return request + " -> " + status + " " + shown.replace("\n", "\\n");
        }
    }
}
