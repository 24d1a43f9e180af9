package io.companychat.chat.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import io.restassured.response.Response;

/** Status checks whose failure message shows the body that came back. */
public final class HttpAssertions {

    private HttpAssertions() {
    }

    public static Response expectStatus(Response response, int status, String what) {
        assertThat(response.statusCode()).as("%s: HTTP status (body: %s)", what, response.asString()).isEqualTo(status);
        return response;
    }

    /** The 422 body of API.md with exactly these field errors. */
    public static void expectFieldErrors(Response response, Map<String, List<String>> errors, String what) {
        expectStatus(response, 422, what);
        assertThat(response.jsonPath().getMap("errors")).as("%s: 422 errors", what).isEqualTo(errors);
    }

    /** The {@code {"message": ...}} body of API.md with this status. */
    public static void expectMessage(Response response, int status, String what) {
        expectStatus(response, status, what);
        assertThat(response.jsonPath().getString("message")).as("%s: error message", what).isNotBlank();
    }
}
