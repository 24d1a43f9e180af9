package io.companychat.user;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.GreenMailResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** Every kind of bad token gets the API.md 401; a good one passes. Through real HTTP. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class TokenVerificationTest {

    private static final String PROTECTED = "/test/error-model/caller";
    private static final long USER_ID = 42;
    private static final String EMAIL = "ada@example.com";

    @InjectTestTokens
    TestTokens tokens;

    @Test
    void validTokenIsAccepted() {
        given().auth().oauth2(tokens.tokenFor(USER_ID, EMAIL))
                .when().get(PROTECTED)
                .then().statusCode(200).body(equalTo(EMAIL));
    }

    @Test
    void everyBadTokenIs401WithMessage() {
        Map<String, String> bad = Map.of(
                "expired", tokens.expiredTokenFor(USER_ID, EMAIL),
                "wrong issuer", tokens.wrongIssuerTokenFor(USER_ID, EMAIL),
                "unknown signing key", tokens.foreignKeyTokenFor(USER_ID, EMAIL),
                "alg none", TestTokens.unsignedTokenFor(USER_ID, EMAIL),
                "tampered payload", tokens.tamperedTokenFor(USER_ID, EMAIL, 7),
                "not a JWT", "garbage.not.jwt");
        bad.forEach((kind, token) -> given().auth().oauth2(token)
                .when().get(PROTECTED)
                .then().statusCode(401)
                .header("WWW-Authenticate", "Bearer")
                .body("message", equalTo("missing, invalid, expired or revoked token")));
    }

    @Test
    void missingTokenIs401WithMessage() {
        given().when().get(PROTECTED)
                .then().statusCode(401)
                .body("message", equalTo("missing, invalid, expired or revoked token"));
        given().header("Authorization", "Basic dXNlcjpwdw==")
                .when().get(PROTECTED)
                .then().statusCode(401);
    }
}
