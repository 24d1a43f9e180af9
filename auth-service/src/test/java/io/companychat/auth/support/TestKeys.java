package io.companychat.auth.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

import io.companychat.common.security.TokenClaims;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.build.JwtClaimsBuilder;

/**
 * The key files of a rotated deployment, made for this run: the current signing key (private, PKCS#8 PEM) and a
 * previous key whose public half is still published. Signs test tokens with either, or with a key nobody knows.
 */
public final class TestKeys {

    private final KeyPair current;
    private final KeyPair previous;
    private final Path signingKeyFile;
    private final Path verificationKeysDirectory;

    private TestKeys(KeyPair current, KeyPair previous, Path signingKeyFile, Path verificationKeysDirectory) {
        this.current = current;
        this.previous = previous;
        this.signingKeyFile = signingKeyFile;
        this.verificationKeysDirectory = verificationKeysDirectory;
    }

    public static TestKeys create() {
        try {
            KeyPair current = generate();
            KeyPair previous = generate();
            Path directory = Files.createTempDirectory("auth-test-keys");
            Path signingKey = directory.resolve("signing-key.pem");
            Files.writeString(signingKey, pem("PRIVATE KEY", current.getPrivate().getEncoded()));
            Path verificationKeys = Files.createDirectory(directory.resolve("previous"));
            Files.writeString(verificationKeys.resolve("2026-10.pem"), pem("PUBLIC KEY", previous.getPublic().getEncoded()));
            Files.writeString(verificationKeys.resolve("README.txt"), "not a key: ignored, only *.pem files are read");
            return new TestKeys(current, previous, signingKey, verificationKeys);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the key files. */
    public void delete() {
        try (Stream<Path> files = Files.walk(signingKeyFile.getParent())) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path signingKeyFile() {
        return signingKeyFile;
    }

    public Path verificationKeysDirectory() {
        return verificationKeysDirectory;
    }

    public String currentKeyId() {
        return thumbprint((RSAPublicKey) current.getPublic());
    }

    public String previousKeyId() {
        return thumbprint((RSAPublicKey) previous.getPublic());
    }

    public RSAPublicKey currentPublicKey() {
        return (RSAPublicKey) current.getPublic();
    }

    /** Claims as auth-service sets them. */
    public static JwtClaimsBuilder claims(long userId, String email) {
        Instant now = Instant.now();
        return Jwt.issuer(TokenClaims.ISSUER)
                .subject(Long.toString(userId))
                .upn(email)
                .groups(TokenClaims.GROUPS)
                .claim("jti", UUID.randomUUID().toString())
                .issuedAt(now)
                .expiresAt(now.plus(Duration.ofHours(1)));
    }

    public String signWithCurrentKey(JwtClaimsBuilder claims) {
        return claims.jws().algorithm(SignatureAlgorithm.RS256).keyId(currentKeyId()).sign(current.getPrivate());
    }

    public String signWithPreviousKey(JwtClaimsBuilder claims) {
        return claims.jws().algorithm(SignatureAlgorithm.RS256).keyId(previousKeyId()).sign(previous.getPrivate());
    }

    /** Signed by a key that is not published, claiming the current key's id. */
    public String signWithUnknownKey(JwtClaimsBuilder claims) {
        return claims.jws().algorithm(SignatureAlgorithm.RS256).keyId(currentKeyId()).sign(generate().getPrivate());
    }

    /** {@code alg: none}: the claims of a valid token, no signature. */
    public static String unsigned(long userId, String email) {
        Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
        long exp = Instant.now().plus(Duration.ofHours(1)).getEpochSecond();
        String header = encoder.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = encoder.encodeToString(("{\"iss\":\"" + TokenClaims.ISSUER + "\",\"sub\":\"" + userId + "\",\"upn\":\""
                + email + "\",\"groups\":[\"user\"],\"jti\":\"" + UUID.randomUUID() + "\",\"exp\":" + exp + "}")
                .getBytes(StandardCharsets.UTF_8));
        return header + "." + payload + ".";
    }

    /** A valid token whose payload names another user, the signature left as it was. */
    public String tampered(long userId, String email, long otherUserId) {
        String[] parts = signWithCurrentKey(claims(userId, email)).split("\\.");
        String payload = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
        String forged = payload.replace("\"sub\":\"" + userId + "\"", "\"sub\":\"" + otherUserId + "\"");
        if (forged.equals(payload)) {
            throw new IllegalStateException("could not find the sub claim in " + payload);
        }
        return parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(forged.getBytes(StandardCharsets.UTF_8))
                + "." + parts[2];
    }

    /** RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace, base64url. */
    public static String thumbprint(RSAPublicKey key) {
        String canonical = "{\"e\":\"" + base64Url(key.getPublicExponent()) + "\",\"kty\":\"RSA\",\"n\":\""
                + base64Url(key.getModulus()) + "\"}";
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            byte[] unsigned = new byte[bytes.length - 1];
            System.arraycopy(bytes, 1, unsigned, 0, unsigned.length);
            bytes = unsigned;
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    public static KeyPair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
