package io.companychat.auth.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

import org.jose4j.jwk.RsaJsonWebKey;

import io.companychat.common.security.TokenClaims;
import io.companychat.common.testing.JwtForgery;
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
            Files.writeString(signingKey, JwtForgery.pem("PRIVATE KEY", current.getPrivate().getEncoded()));
            Path verificationKeys = Files.createDirectory(directory.resolve("previous"));
            Files.writeString(verificationKeys.resolve("2026-10.pem"), JwtForgery.pem("PUBLIC KEY", previous.getPublic().getEncoded()));
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
        return JwtForgery.unsigned(JwtForgery.claims(userId, email));
    }

    /** A valid token whose payload names another user, the signature left as it was. */
    public String tampered(long userId, String email, long otherUserId) {
        return JwtForgery.withSubject(signWithCurrentKey(claims(userId, email)), otherUserId);
    }

    /** RFC 7638: the key id auth-service gives a key. */
    public static String thumbprint(RSAPublicKey key) {
        return JwtForgery.thumbprint(new RsaJsonWebKey(key));
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
