package io.companychat.common.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.junit.jupiter.api.Test;

import io.companychat.common.security.TokenClaims;

class JwtForgeryTest {

    private static final RsaJsonWebKey KEY = JwtForgery.rsaKey("forgery-test");

    @Test
    void claimsAreTheOnesTheServicesExpect() {
        assertThat(JwtForgery.ISSUER).isEqualTo(TokenClaims.ISSUER);
        assertThat(JwtForgery.GROUPS).containsExactlyInAnyOrderElementsOf(TokenClaims.GROUPS);
    }

    @Test
    void aSignedTokenVerifiesWithThePublishedKeyAndATamperedOneDoesNot() throws Exception {
        String token = JwtForgery.sign(JwtForgery.claims(7, "ada@example.com"), KEY.getPrivateKey(), KEY.getKeyId());
        JwtClaims verified = verifier().processToClaims(token);
        assertThat(verified.getSubject()).isEqualTo("7");
        assertThat(verified.getStringListClaimValue("groups")).isEqualTo(List.of("user"));
        assertThat(JwtForgery.headerOf(token)).containsEntry("kid", "forgery-test").containsEntry("alg", "RS256");

        String tampered = JwtForgery.withSubject(token, 8);
        assertThat(JwtForgery.claimsOf(tampered).getSubject()).isEqualTo("8");
        assertThat(verifies(tampered)).as("a payload swapped under the old signature verifies").isFalse();
        assertThat(verifies(JwtForgery.unsigned(JwtForgery.claims(7, "ada@example.com")))).as("alg none verifies").isFalse();
    }

    private static boolean verifies(String token) {
        try {
            verifier().processToClaims(token);
            return true;
        } catch (InvalidJwtException e) {
            return false;
        }
    }

    private static org.jose4j.jwt.consumer.JwtConsumer verifier() {
        return new JwtConsumerBuilder().setVerificationKey(KEY.getPublicKey()).setExpectedIssuer("company-chat").build();
    }
}
