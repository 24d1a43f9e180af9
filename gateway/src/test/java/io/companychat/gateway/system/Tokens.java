package io.companychat.gateway.system;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Makes the tokens an attacker would try, some signed with auth-service's real key to isolate one fault each. */
public final class Tokens {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final PrivateKey signingKey;
    private final String keyId;

    Tokens(Path signingKeyPem, String keyId) throws Exception {
        String pem = Files.readString(signingKeyPem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        this.signingKey = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
        this.keyId = keyId;
    }

    /** Claims as auth-service issues them for the user. */
    public static Map<String, Object> claims(long userId, String email) {
        long now = Instant.now().getEpochSecond();
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", "company-chat");
        claims.put("sub", Long.toString(userId));
        claims.put("upn", email);
        claims.put("groups", List.of("user"));
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("iat", now);
        claims.put("exp", now + 3600);
        return claims;
    }

    /** Signed with auth-service's own key under its key id: valid unless the claims say otherwise. */
    public String signedWithTheRealKey(Map<String, Object> claims) {
        return sign(claims, signingKey, keyId);
    }

    /** Signed with a key of the attacker's own, under the real key id. */
    public String signedWithAForeignKey(Map<String, Object> claims) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return sign(claims, generator.generateKeyPair().getPrivate(), keyId);
    }

    public static String unsigned(Map<String, Object> claims) throws Exception {
        return B64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                + B64.encodeToString(JSON.writeValueAsBytes(claims)) + ".";
    }

    /** A real token with its payload swapped for another user's, signature kept. */
    public static String withPayloadSwapped(String token, long otherUserId) throws Exception {
        String[] parts = token.split("\\.");
        JsonNode payload = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
        ((com.fasterxml.jackson.databind.node.ObjectNode) payload).put("sub", Long.toString(otherUserId));
        return parts[0] + "." + B64.encodeToString(JSON.writeValueAsBytes(payload)) + "." + parts[2];
    }

    public static JsonNode payloadOf(String token) throws Exception {
        return JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[1]));
    }

    public static JsonNode headerOf(String token) throws Exception {
        return JSON.readTree(Base64.getUrlDecoder().decode(token.split("\\.")[0]));
    }

    private static String sign(Map<String, Object> claims, PrivateKey key, String kid) {
        try {
            String header = B64.encodeToString(JSON.writeValueAsBytes(Map.of("alg", "RS256", "typ", "JWT", "kid", kid)));
            String body = header + "." + B64.encodeToString(JSON.writeValueAsBytes(claims));
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(key);
            signature.update(body.getBytes(StandardCharsets.US_ASCII));
            return body + "." + B64.encodeToString(signature.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
