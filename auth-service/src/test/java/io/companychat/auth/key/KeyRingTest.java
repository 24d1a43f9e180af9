package io.companychat.auth.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.companychat.auth.config.AuthConfig;
import io.companychat.auth.support.TestKeys;
import io.companychat.common.testing.JwtForgery;

/** Loading keys: formats, key ids, rotation sets, and the refusals an operator must understand. Plain JUnit. */
class KeyRingTest {

    /** RFC 7638, section 3.1: the example key and its thumbprint. */
    private static final String RFC_N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    private static final String RFC_E = "AQAB";
    private static final String RFC_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    @TempDir
    Path directory;

    record Keys(Optional<String> signingKeyLocation, Optional<List<String>> verificationKeysLocation, boolean generateIfMissing)
            implements AuthConfig.Keys {
    }

    @Test
    void keyIdIsTheRfc7638Thumbprint() throws Exception {
        RSAPublicKey key = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                new BigInteger(1, Base64.getUrlDecoder().decode(RFC_N)), new BigInteger(1, Base64.getUrlDecoder().decode(RFC_E))));

        assertThat(KeyRing.thumbprint(key)).isEqualTo(RFC_THUMBPRINT);
    }

    @Test
    void signingKeyIsPublishedFirstThenThePreviousKeys() throws IOException {
        KeyPair current = TestKeys.generate();
        KeyPair older = TestKeys.generate();
        KeyPair oldest = TestKeys.generate();
        Path signing = write("signing.pem", JwtForgery.pem("PRIVATE KEY", current.getPrivate().getEncoded()));
        Path previous = Files.createDirectory(directory.resolve("previous"));
        Files.writeString(previous.resolve("a.pem"), JwtForgery.pem("PUBLIC KEY", older.getPublic().getEncoded()));
        Path single = write("b.pem", JwtForgery.pem("PUBLIC KEY", oldest.getPublic().getEncoded()));

        KeyRing ring = KeyRing.load(new Keys(Optional.of(signing.toString()),
                Optional.of(List.of(previous.toString(), single.toString())), false));

        assertThat(ring.signingKeyId()).isEqualTo(TestKeys.thumbprint((RSAPublicKey) current.getPublic()));
        assertThat(ring.jwks()).extracting(key -> key.get("kid")).containsExactly(ring.signingKeyId(),
                TestKeys.thumbprint((RSAPublicKey) older.getPublic()), TestKeys.thumbprint((RSAPublicKey) oldest.getPublic()));
        assertThat(ring.signingKey().getEncoded()).isEqualTo(current.getPrivate().getEncoded());
    }

    @Test
    void theCurrentKeyListedAgainAmongThePreviousOnesIsPublishedOnce() throws IOException {
        KeyPair current = TestKeys.generate();
        Path signing = write("signing.pem", JwtForgery.pem("PRIVATE KEY", current.getPrivate().getEncoded()));
        Path again = write("again.pem", JwtForgery.pem("PUBLIC KEY", current.getPublic().getEncoded()));

        KeyRing ring = KeyRing.load(new Keys(Optional.of(signing.toString()), Optional.of(List.of(again.toString())), false));

        assertThat(ring.jwks()).hasSize(1);
    }

    @Test
    void publishedKeysCarryNoPrivateMember() throws IOException {
        KeyPair current = TestKeys.generate();
        Path signing = write("signing.pem", JwtForgery.pem("PRIVATE KEY", current.getPrivate().getEncoded()));

        Map<String, Object> published = KeyRing.load(new Keys(Optional.of(signing.toString()), Optional.empty(), false)).jwks().get(0);

        assertThat(published).containsOnlyKeys("kty", "kid", "use", "alg", "n", "e");
    }

    @Test
    void withoutASigningKeyProdRefusesToStartAndSaysWhatToSet() {
        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.empty(), Optional.empty(), false)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining("AUTH_SIGNING_KEY_LOCATION")
                .hasMessageContaining("openssl genpkey");
    }

    @Test
    void withoutASigningKeyDevMakesAThrowAwayOne() {
        KeyRing ring = KeyRing.load(new Keys(Optional.empty(), Optional.empty(), true));

        assertThat(ring.jwks()).hasSize(1);
        assertThat(ring.jwks().get(0)).containsEntry("kty", "RSA").containsEntry("alg", "RS256");
        assertThat(ring.signingKeyId()).isEqualTo(ring.jwks().get(0).get("kid"));
    }

    @Test
    void pkcs1PrivateKeyIsRefusedWithTheConversionCommand() throws IOException {
        Path pkcs1 = write("old.pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n");

        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.of(pkcs1.toString()), Optional.empty(), true)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining("openssl pkcs8 -topk8");
    }

    @Test
    void encryptedPrivateKeyIsRefused() throws IOException {
        Path encrypted = write("enc.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBOgIBAAJBAKj3\n-----END ENCRYPTED PRIVATE KEY-----\n");

        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.of(encrypted.toString()), Optional.empty(), false)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining("password-protected");
    }

    @Test
    void aPublicKeyWhereThePrivateKeyBelongsIsRefused() throws IOException {
        Path wrong = write("public.pem", JwtForgery.pem("PUBLIC KEY", TestKeys.generate().getPublic().getEncoded()));

        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.of(wrong.toString()), Optional.empty(), false)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining("expected 'PRIVATE KEY'");
    }

    @Test
    void weakKeyIsRefused() throws Exception {
        java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("RSA");
        generator.initialize(1024);
        Path weak = write("weak.pem", JwtForgery.pem("PRIVATE KEY", generator.generateKeyPair().getPrivate().getEncoded()));

        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.of(weak.toString()), Optional.empty(), false)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining("1024-bit");
    }

    @Test
    void missingFilesAreNamed() {
        Path missing = directory.resolve("nowhere.pem");

        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.of(missing.toString()), Optional.empty(), false)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> KeyRing.load(new Keys(Optional.empty(), Optional.of(List.of(missing.toString())), true)))
                .isInstanceOf(KeyConfigurationException.class)
                .hasMessageContaining(missing.toString());
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(directory.resolve(name), content);
    }
}
