package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;

import io.companychat.common.testing.JwtForgery;
import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.RunningSystem.TestUser;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/** Sessions across the real services, through the gateway (issue 4's end-to-end acceptance). */
@ExtendWith(SystemExtension.class)
@BusIndependent
class SessionsIT {

    private static final Duration REVOCATION_PROMISE = Duration.ofSeconds(1);

    private static RunningSystem system;

    @Test
    void loginWithTheEmailedPasswordGivesTheOriginalShapeAndATokenEveryServiceAccepts() throws Exception {
        TestUser ada = system.register("Ada");
        Response login = given().baseUri(system.gatewayUrl()).contentType(ContentType.JSON)
                .body(Map.of("creds", Map.of("email", ada.email(), "password", ada.password())))
                .when().post("/api/login");

        assertThat(login.statusCode()).isEqualTo(200);
        String token = login.jsonPath().getString("data.token");
        assertThat(login.header("authorization")).isEqualTo("Bearer " + token);
        assertThat(login.jsonPath().getMap("data.user")).containsOnlyKeys("id", "name", "subname", "email", "job")
                .containsEntry("email", ada.email());
        JwtClaims claims = JwtForgery.claimsOf(token);
        assertThat(claims.getIssuer()).isEqualTo("company-chat");
        assertThat(claims.getSubject()).isEqualTo(Long.toString(ada.id()));
        assertThat(claims.getClaimValue("upn")).isEqualTo(ada.email());
        assertThat(claims.getStringListClaimValue("groups")).containsExactly("user");
        assertThat(claims.getJwtId()).isNotBlank();
        assertThat(login.jsonPath().getLong("data.expire")).isEqualTo(claims.getExpirationTime().getValue());

        given().baseUri(system.gatewayUrl()).auth().oauth2(token).when().get("/api/users/me")
                .then().statusCode(200).body("id", org.hamcrest.Matchers.equalTo((int) ada.id()));
        given().baseUri(system.gatewayUrl()).auth().oauth2(token).when().get("/api/conversations")
                .then().statusCode(200);
    }

    @Test
    void loggedOutTokenIsRefusedByEveryServiceWithinOneSecond() {
        TestUser bob = system.register("Bob");
        String token = system.login(bob);
        assertThat(readStatuses(token).values()).containsOnly(200);

        given().baseUri(system.gatewayUrl()).auth().oauth2(token).when().post("/api/logout").then().statusCode(204);
        long loggedOut = System.nanoTime();

        Map<String, Integer> after = statuses(token);
        long elapsedMillis = (System.nanoTime() - loggedOut) / 1_000_000;
        while (!after.values().stream().allMatch(s -> s == 401) && elapsedMillis < 3000) {
            after = statuses(token);
            elapsedMillis = (System.nanoTime() - loggedOut) / 1_000_000;
        }
        assertThat(after).as("answers to the logged-out token").containsOnly(
                Map.entry("user-service", 401), Map.entry("chat-service", 401), Map.entry("auth-service", 401));
        assertThat(elapsedMillis).as("ms from logout until every service refused").isLessThanOrEqualTo(REVOCATION_PROMISE.toMillis());
        assertThat(PhoenixTestSocket.upgradeStatus(system.wsBase("gateway"), "?token=" + token)).isEqualTo(403);
    }

    @Test
    void forgedExpiredMisissuedAndTamperedTokensAreRefusedEverywhereIncludingTheSocket() throws Exception {
        TestUser cy = system.register("Cy");
        TestUser dee = system.register("Dee");
        String good = system.login(cy);
        Tokens tokens = system.tokens();

        JwtClaims expired = JwtForgery.claims(cy.id(), cy.email());
        expired.setExpirationTime(NumericDate.fromSeconds(expired.getIssuedAt().getValue() - 60));
        JwtClaims misissued = JwtForgery.claims(cy.id(), cy.email());
        misissued.setIssuer("someone-else");
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("signed with another key", tokens.signedWithAForeignKey(JwtForgery.claims(cy.id(), cy.email())));
        bad.put("alg none", JwtForgery.unsigned(JwtForgery.claims(cy.id(), cy.email())));
        bad.put("tampered payload (other sub)", JwtForgery.withSubject(good, dee.id()));
        bad.put("expired", tokens.signedWithTheRealKey(expired));
        bad.put("wrong issuer", tokens.signedWithTheRealKey(misissued));
        bad.put("garbage", "not.a.token");

        assertThat(readStatuses(tokens.signedWithTheRealKey(JwtForgery.claims(cy.id(), cy.email()))).values())
                .as("a token forged with the real key is accepted: the test can tell good from bad").containsOnly(200);
        bad.forEach((kind, token) -> {
            assertThat(statuses(token).values()).as(kind).containsOnly(401);
            assertThat(PhoenixTestSocket.upgradeStatus(system.wsBase("gateway"), "?token=" + token)).as(kind + " at the socket upgrade").isEqualTo(403);
        });
        assertThat(PhoenixTestSocket.upgradeStatus(system.wsBase("gateway"), "")).as("no token at the socket upgrade").isEqualTo(403);
    }

    /** What user- and chat-service answer to a protected read with this token. */
    private static Map<String, Integer> readStatuses(String token) {
        Map<String, Integer> statuses = new LinkedHashMap<>();
        statuses.put("user-service", given().baseUri(system.gatewayUrl()).auth().oauth2(token).get("/api/users/me").statusCode());
        statuses.put("chat-service", given().baseUri(system.gatewayUrl()).auth().oauth2(token).get("/api/conversations").statusCode());
        return statuses;
    }

    /**
     * {@link #readStatuses} plus auth-service's answer to a logout with the token (its only
     * protected route): only for tokens expected to be refused, since an accepted one is revoked.
     */
    private static Map<String, Integer> statuses(String token) {
        Map<String, Integer> statuses = readStatuses(token);
        statuses.put("auth-service", given().baseUri(system.gatewayUrl()).auth().oauth2(token).post("/api/logout").statusCode());
        return statuses;
    }

}
