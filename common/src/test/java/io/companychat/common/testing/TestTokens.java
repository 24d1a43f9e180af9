package io.companychat.common.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

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

    private final KeyPair keyPair;
    private final String keyId;
    private final Map<String, Instant> revokedAtAuthService = new ConcurrentHashMap<>();
    private volatile boolean revocationListAvailable = true;

    private TestTokens(KeyPair keyPair, String keyId) {
        this.keyPair = keyPair;
        this.keyId = keyId;
    }

    public static TestTokens create() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return new TestTokens(generator.generateKeyPair(), "test-" + UUID.randomUUID());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public key as auth-service publishes it at {@code /.well-known/jwks.json}. */
    public String jwks() {
        return jwks(keyId, (RSAPublicKey) keyPair.getPublic());
    }

    /**
     * Revokes the token at the auth-service stand-in only, without notifying anyone: a service
     * learns of it when it next reloads the list (after its notification stream reconnects).
     */
    public void revokeSilently(String token) {
        revokedAtAuthService.put(jtiOf(token), Instant.now().plus(LIFETIME));
    }

    /** Whether the auth-service stand-in answers {@code GET /internal/revoked-tokens} (otherwise 503), as when auth-service is down. */
    public void revocationListAvailable(boolean available) {
        revocationListAvailable = available;
    }

    public boolean revocationListAvailable() {
        return revocationListAvailable;
    }

    /** The body of auth-service's {@code GET /internal/revoked-tokens}. */
    public String revocationListJson() {
        return revokedAtAuthService.entrySet().stream()
                .map(e -> "{\"jti\":\"" + e.getKey() + "\",\"expires_at\":\"" + e.getValue() + "\"}")
                .collect(Collectors.joining(",", "{\"data\":[", "]}"));
    }

    /** The {@code jti} claim of a token, read without verifying it. */
    public static String jtiOf(String token) {
        return claimOf(token, "jti");
    }

    /** The {@code exp} claim of a token, read without verifying it. */
    public static long expiryOf(String token) {
        return Long.parseLong(claimOf(token, "exp"));
    }

    private static String claimOf(String token, String claim) {
        String payload = new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]), StandardCharsets.UTF_8);
        Matcher matcher = Pattern.compile("\"" + claim + "\"\\s*:\\s*\"?([^\",}]+)").matcher(payload);
        if (!matcher.find()) {
            throw new IllegalArgumentException("token has no " + claim + " claim");
        }
        return matcher.group(1);
    }

    /** A valid token for the user, as auth-service would issue it. */
    public String tokenFor(long userId, String email) {
        return claims(userId, email).jws().keyId(keyId).sign(keyPair.getPrivate());
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
        return claims.jws().keyId(keyId).sign(keyPair.getPrivate());
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
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return claims(userId, email).jws().keyId(keyId).sign(generator.generateKeyPair().getPrivate());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same header and signature, the payload swapped for another user's. */
    public String tamperedTokenFor(long userId, String email, long otherUserId) {
        String[] parts = tokenFor(userId, email).split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]));
        String forged = payload.replace("\"sub\":\"" + userId + "\"", "\"sub\":\"" + otherUserId + "\"");
        return parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(forged.getBytes()) + "." + parts[2];
    }

    /** {@code alg: none}, no signature. */
    public static String unsignedTokenFor(long userId, String email) {
        Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
        long exp = Instant.now().plus(LIFETIME).getEpochSecond();
        String header = encoder.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes());
        String payload = encoder.encodeToString(("{\"iss\":\"" + TokenClaims.ISSUER + "\",\"sub\":\"" + userId
                + "\",\"upn\":\"" + email + "\",\"groups\":[\"user\"],\"jti\":\"" + UUID.randomUUID() + "\",\"exp\":" + exp + "}")
                .getBytes());
        return header + "." + payload + ".";
    }

    private static String jwks(String keyId, RSAPublicKey key) {
        return "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"" + keyId + "\",\"n\":\""
                + base64Url(key.getModulus()) + "\",\"e\":\"" + base64Url(key.getPublicExponent()) + "\"}]}";
    }

    private static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            byte[] unsigned = new byte[bytes.length - 1];
            System.arraycopy(bytes, 1, unsigned, 0, unsigned.length);
            bytes = unsigned;
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
