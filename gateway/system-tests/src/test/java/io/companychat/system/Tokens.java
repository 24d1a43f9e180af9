package io.companychat.system;

import java.security.PrivateKey;

import org.jose4j.jwt.JwtClaims;

import io.companychat.common.testing.JwtForgery;

/**
 * The tokens an attacker would try, some signed with auth-service's real key (the system's, from
 * {@link RunningSystem#tokens()}) to isolate one fault each. Claims, unsigned and tampered tokens: {@link JwtForgery}.
 */
public final class Tokens {

    private final PrivateKey signingKey;
    private final String keyId;

    Tokens(PrivateKey signingKey, String keyId) {
        this.signingKey = signingKey;
        this.keyId = keyId;
    }

    /** Signed with auth-service's own key under its key id: valid unless the claims say otherwise. */
    public String signedWithTheRealKey(JwtClaims claims) {
        return JwtForgery.sign(claims, signingKey, keyId);
    }

    /** Signed with a key of the attacker's own, under the real key id. */
    public String signedWithAForeignKey(JwtClaims claims) {
        return JwtForgery.sign(claims, JwtForgery.rsaKey(keyId).getPrivateKey(), keyId);
    }
}
