package io.companychat.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.companychat.gateway.support.StubServicesResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.specification.RequestSpecification;

/**
 * Behind an Ingress: the test client (loopback) plays the controller, a trusted proxy, so the client address comes
 * from its X-Forwarded-For, read from the right past trusted hops; what the client itself wrote there is not believed.
 */
@QuarkusTest
@TestProfile(TrustedProxiesTest.BehindIngress.class)
@WithTestResource(StubServicesResource.class)
class TrustedProxiesTest {

    public static class BehindIngress implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gateway.trusted-proxies", "127.0.0.0/8,::1,10.0.0.0/8");
        }
    }

    @ParameterizedTest(name = "X-Forwarded-For \"{0}\" from a trusted proxy: the client is {1}")
    @CsvSource(delimiter = '|', value = {
            "203.0.113.7                          | 203.0.113.7",
            "198.51.100.1, 203.0.113.7            | 203.0.113.7",
            "203.0.113.7, 10.1.2.3                | 203.0.113.7",
            "198.51.100.1, 203.0.113.7, 10.1.2.3  | 203.0.113.7",
            "not-an-address, 203.0.113.7          | 203.0.113.7",
            "203.0.113.7, evil.example.com        | 127.0.0.1",
            "10.9.9.9, 10.1.2.3                   | 10.9.9.9",
            "2001:db8::1                          | 2001:db8:0:0:0:0:0:1",
            "''                                   | 127.0.0.1",
    })
    void clientAddressIsTheRightmostUntrustedHop(String forwardedFor, String client) {
        RequestSpecification request = given();
        if (!forwardedFor.isEmpty()) {
            request.header("X-Forwarded-For", forwardedFor);
        }
        String seen = request.get("/api/users").then().statusCode(200).extract().jsonPath().getString("headers.x-forwarded-for");

        assertThat(seen).as("X-Forwarded-For the service sees").isEqualTo(client);
    }
}
