package io.companychat.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The path rules on their own, including what no HTTP/1.1 request can bring to them (a raw backslash). */
class PathPolicyTest {

    @ParameterizedTest(name = "{0} is accepted")
    @ValueSource(strings = { "/api/users", "/api/users/7", "/api/users/me/password", "/socket/websocket",
            "/.well-known/jwks.json", "/api//users", "/api/users/%41", "/api/users/a..b", "/api/users/...",
            "/api/users/.hidden" })
    void ordinaryPathIsAccepted(String rawPath) {
        assertThat(PathPolicy.violation(rawPath)).as("violation of %s", rawPath).isEmpty();
    }

    @ParameterizedTest(name = "{0} is refused")
    @ValueSource(strings = { "/api/users/..", "/api/users/../internal", "/api/users/./7", "/api/users/..;x/internal",
            "/api/users/%2e%2e/internal", "/api/users/%2E./internal", "/api/users%2finternal", "/api/users%2Finternal",
            "/api/users/%5cinternal", "/api/users/%5Cinternal", "/api/users/\\internal", "api/users", "" })
    void trickPathIsRefused(String rawPath) {
        assertThat(PathPolicy.violation(rawPath)).as("violation of %s", rawPath).isPresent();
    }
}
