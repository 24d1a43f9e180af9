package io.companychat.common.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.jose4j.jwk.RsaJsonWebKey;

import io.companychat.common.security.TokenClaims;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;

/**
 * Tokens for services under test, signed with an RSA key made for this run and published as a
 * JWKS file, until (or instead of) a running auth-service. Also makes the bad tokens that
 * every service must refuse.
 */
public final class TestTokens {

    public static final Duration LIFETIME = Duration.ofHours(1);

    private final RsaJsonWebKey key;
    private final String keyId;
    private final Map<String, Instant> revokedAtAuthService = new ConcurrentHashMap<>();

    private TestTokens(RsaJsonWebKey key) {
        this.key = key;
        this.keyId = key.getKeyId();
    }

    public static TestTokens create() {
        return new TestTokens(JwtForgery.rsaKey("test-" + UUID.randomUUID()));
    }

    /** The public key as auth-service publishes it at {@code /.well-known/jwks.json}. */
    public String jwks() {
        return JwtForgery.jwks(key);
    }

    /**
     * Revokes the token at the auth-service stand-in only, without notifying anyone: a service
     * learns of it when it next reloads the list (after its notification stream reconnects).
     */
    public void revokeSilently(String token) {
        revokedAtAuthService.put(jtiOf(token), Instant.now().plus(LIFETIME));
    }

    /** The body of auth-service's {@code GET /internal/revoked-tokens}. */
    public String revocationListJson() {
        return revokedAtAuthService.entrySet().stream()
                .map(e -> "{\"jti\":\"" + e.getKey() + "\",\"expires_at\":\"" + e.getValue() + "\"}")
                .collect(Collectors.joining(",", "{\"data\":[", "]}"));
    }

    /** The {@code jti} claim of a token, read without verifying it. */
    public static String jtiOf(String token) {
        return String.valueOf(JwtForgery.claimsOf(token).getClaimValue("jti"));
    }

    /** The {@code exp} claim of a token, read without verifying it. */
    public static long expiryOf(String token) {
        return ((Number) JwtForgery.claimsOf(token).getClaimValue("exp")).longValue();
    }

    /** A valid token for the user, as auth-service would issue it. */
    public String tokenFor(long userId, String email) {
        return sign(claims(userId, email));
    }

    /** Claims as auth-service sets them, for tests that change one thing before signing. */
    public JwtClaimsBuilder claims(long userId, String email) {
        Instant now = Instant.now();
        return Jwt.issuer(TokenClaims.ISSUER)
                .subject(Long.toString(userId))
                .upn(email)
                .groups(TokenClaims.GROUPS)
                .claim("jti", UUID.randomUUID().toString())
                .issuedAt(now)
                .expiresAt(now.plus(LIFETIME));
    }

    public String sign(JwtClaimsBuilder claims) {
        return claims.jws().keyId(keyId).sign(key.getPrivateKey());
    }

    public String expiredTokenFor(long userId, String email) {
        Instant past = Instant.now().minus(Duration.ofHours(2));
        return sign(claims(userId, email).issuedAt(past).expiresAt(past.plus(Duration.ofMinutes(5))));
    }

    public String wrongIssuerTokenFor(long userId, String email) {
        return sign(claims(userId, email).issuer("someone-else"));
    }

    /** Signed with a key that no JWKS knows, under this run's key id. */
    public String foreignKeyTokenFor(long userId, String email) {
        return claims(userId, email).jws().keyId(keyId).sign(JwtForgery.rsaKey(keyId).getPrivateKey());
    }

    /** The same header and signature, the payload swapped for another user's. */
    public String tamperedTokenFor(long userId, String email, long otherUserId) {
        return JwtForgery.withSubject(tokenFor(userId, email), otherUserId);
    }

    /** {@code alg: none}, no signature. */
    public static String unsignedTokenFor(long userId, String email) {
        return JwtForgery.unsigned(JwtForgery.claims(userId, email));
    }
}
