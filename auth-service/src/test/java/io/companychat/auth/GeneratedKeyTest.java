package io.companychat.auth;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** No key configured (the %test profile allows it, like %dev): one throw-away key, published. Shares HealthTest's app. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
class GeneratedKeyTest {

    @Test
    void withoutConfiguredKeysOneGeneratedKeyIsPublished() {
        List<Map<String, Object>> keys = given().when().get("/.well-known/jwks.json")
                .then().statusCode(200).extract().jsonPath().getList("keys");

        assertThat(keys).hasSize(1);
        assertThat(keys.get(0)).containsEntry("kty", "RSA").containsEntry("alg", "RS256").containsKey("kid");
    }
}
