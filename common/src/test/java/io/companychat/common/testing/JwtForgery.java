package io.companychat.common.testing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.jose4j.base64url.Base64Url;
import org.jose4j.json.JsonUtil;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.jwx.JsonWebStructure;
import org.jose4j.keys.BigEndianBigInteger;
import org.jose4j.lang.JoseException;


/**
 * Keys and tokens for tests, good and forged, made with jose4j (the JOSE library smallrye-jwt itself uses): RSA keys
 * as JWKs, the JWKS document auth-service publishes, tokens signed with any key, {@code alg: none} tokens, and real
 * tokens with their payload swapped under the old signature. One place for what every module's tests forge.
 */
public final class JwtForgery {

    public static final Duration LIFETIME = Duration.ofHours(1);
    /**
     * API.md's issuer and groups. Spelled here rather than taken from common's TokenClaims: the gateway's system tests
     * have this test-jar without common's main classes (JwtForgeryTest keeps the two the same).
     */
    public static final String ISSUER = "company-chat";
    public static final List<String> GROUPS = List.of("user");

    private JwtForgery() {
    }

    /** A new 2048-bit RSA key for RS256, under this key id. */
    public static RsaJsonWebKey rsaKey(String keyId) {
        try {
            RsaJsonWebKey key = RsaJwkGenerator.generateJwk(2048);
            key.setKeyId(keyId);
            key.setUse("sig");
            key.setAlgorithm(AlgorithmIdentifiers.RSA_USING_SHA256);
            return key;
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public halves of the keys as a JWKS document, as {@code GET /.well-known/jwks.json} serves it. */
    public static String jwks(RsaJsonWebKey... keys) {
        return new JsonWebKeySet(keys).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
    }

    /** The RFC 7638 SHA-256 thumbprint, which auth-service uses as key id. */
    public static String thumbprint(RsaJsonWebKey key) {
        return key.calculateBase64urlEncodedThumbprint("SHA-256");
    }

    /** A key member ({@code n}, {@code e}) as the JWKS spells it: unsigned big-endian, base64url. */
    public static String member(BigInteger value) {
        return Base64Url.encode(BigEndianBigInteger.toByteArray(value));
    }

    /** A DER key as a PEM file's text ({@code PRIVATE KEY} for PKCS#8, {@code PUBLIC KEY} for X.509). */
    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** The claims auth-service issues for the user, valid for {@link #LIFETIME}. */
    public static JwtClaims claims(long userId, String email) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(ISSUER);
        claims.setSubject(Long.toString(userId));
        claims.setClaim("upn", email);
        claims.setStringListClaim("groups", GROUPS);
        claims.setJwtId(UUID.randomUUID().toString());
        Instant now = Instant.now();
        claims.setIssuedAt(NumericDate.fromSeconds(now.getEpochSecond()));
        claims.setExpirationTime(NumericDate.fromSeconds(now.plus(LIFETIME).getEpochSecond()));
        return claims;
    }

    /** RS256 over the claims with this key, under this key id (which need not be the key's own). */
    public static String sign(JwtClaims claims, PrivateKey key, String keyId) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(key);
        jws.setKeyIdHeaderValue(keyId);
        jws.setHeader("typ", "JWT");
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code alg: none}: the claims, no signature. */
    public static String unsigned(JwtClaims claims) {
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setHeader("typ", "JWT");
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.NONE);
        jws.setAlgorithmConstraints(AlgorithmConstraints.NO_CONSTRAINTS);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The token's header and signature kept, its payload's {@code sub} swapped for another user's. */
    public static String withSubject(String token, long otherUserId) {
        String[] parts = token.split("\\.");
        JwtClaims claims = claimsOf(token);
        if (claims.getClaimValue("sub") == null) {
            throw new IllegalArgumentException("token has no sub claim");
        }
        claims.setSubject(Long.toString(otherUserId));
        return parts[0] + "." + Base64Url.encodeUtf8ByteRepresentation(claims.toJson()) + "." + parts[2];
    }

    /** The token's claims, read without verifying anything. */
    public static JwtClaims claimsOf(String token) {
        try {
            return new JwtConsumerBuilder().setSkipAllValidators().setSkipSignatureVerification().setDisableRequireSignature()
                    .setJwsAlgorithmConstraints(AlgorithmConstraints.NO_CONSTRAINTS).build().processToClaims(token);
        } catch (InvalidJwtException e) {
            throw new IllegalArgumentException("not a JWT: " + e.getMessage(), e);
        }
    }

    /** The token's JOSE header, read without verifying anything. */
    public static Map<String, Object> headerOf(String token) {
        try {
            JsonWebStructure jws = JsonWebStructure.fromCompactSerialization(token);
            return JsonUtil.parseJson(jws.getHeaders().getFullHeaderAsJsonString());
        } catch (JoseException e) {
            throw new IllegalArgumentException("not a JWT: " + e.getMessage(), e);
        }
    }
}
