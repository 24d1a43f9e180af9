package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.header;
import static io.companychat.auth.support.AuthApi.logout;
import static io.companychat.auth.support.AuthApi.tokenFor;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.keys.resolvers.JwksVerificationKeyResolver;
import org.junit.jupiter.api.Test;

import io.companychat.auth.support.TestKeys;
import io.companychat.common.testing.JwtForgery;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * A rotation in progress: a new signing key, the previous key's public half still configured. The JWKS
 * publishes both, new tokens use the new key, tokens of the previous key stay valid until they expire.
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class KeyRotationTest {

    private static final String PASSWORD = "Emailed-password-7Qx9";
    private static final long USER_ID = 43;
    private static final String EMAIL = "alan@example.com";
    private static final List<String> PRIVATE_MEMBERS = List.of("d", "p", "q", "dp", "dq", "qi");

    UserServiceStub userService;
    TestKeys keys;

    @Test
    void jwksPublishesTheCurrentAndThePreviousKeyUnderTheirThumbprints() {
        Response response = given().when().get("/.well-known/jwks.json");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.contentType()).startsWith("application/json");
        assertThat(response.header("Cache-Control")).contains("max-age=");
        List<Map<String, Object>> published = response.jsonPath().getList("keys");
        assertThat(published).extracting(key -> key.get("kid")).containsExactly(keys.currentKeyId(), keys.previousKeyId());
        for (Map<String, Object> key : published) {
            assertThat(key).containsEntry("kty", "RSA").containsEntry("alg", "RS256").containsEntry("use", "sig");
            assertThat(key).doesNotContainKeys(PRIVATE_MEMBERS.toArray(String[]::new));
        }
        assertThat(published.get(0)).containsEntry("n", JwtForgery.member(keys.currentPublicKey().getModulus()))
                .containsEntry("e", JwtForgery.member(keys.currentPublicKey().getPublicExponent()));
    }

    @Test
    void newTokensAreSignedWithTheCurrentKey() {
        StubUser ada = userService.register(uniqueEmail("rotation"), PASSWORD);

        String token = tokenFor(ada.email(), PASSWORD);

        assertThat(header(token).getString("kid")).isEqualTo(keys.currentKeyId());
    }

    @Test
    void tokenOfThePreviousKeyStaysValid() throws Exception {
        String token = keys.signWithPreviousKey(TestKeys.claims(USER_ID, EMAIL));
        JsonWebKeySet jwks = new JsonWebKeySet(given().when().get("/.well-known/jwks.json").asString());

        new JwtConsumerBuilder()
                .setVerificationKeyResolver(new JwksVerificationKeyResolver(jwks.getJsonWebKeys()))
                .setExpectedIssuer("company-chat")
                .setSkipDefaultAudienceValidation()
                .build()
                .processToClaims(token);
        logout(token).then().statusCode(204);
    }
}
