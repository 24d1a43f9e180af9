package io.companychat.auth.key;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.RsaJsonWebKey;

import io.companychat.auth.config.AuthConfig;
import io.quarkus.logging.Log;

/**
 * The signing key and every public key that verifies tokens still alive: the current key first, then the
 * previous ones. Key ids are RFC 7638 thumbprints, so the same key has the same id on every replica and in
 * every restart, with nothing to coordinate.
 */
public record KeyRing(PrivateKey signingKey, String signingKeyId, List<RsaJsonWebKey> publicKeys) {

    public static final String ALGORITHM = "RS256";

    public KeyRing {
        publicKeys = List.copyOf(publicKeys);
    }

    /** Loads the configured keys, or makes a throw-away signing key where that is allowed. */
    public static KeyRing load(AuthConfig.Keys config) {
        PrivateKey signingKey;
        RSAPublicKey signingPublicKey;
        if (config.signingKeyLocation().isPresent()) {
            RSAPrivateCrtKey key = PemKeys.readPrivateKey(Path.of(config.signingKeyLocation().get()));
            signingKey = key;
            signingPublicKey = PemKeys.publicKeyOf(key);
        } else if (config.generateIfMissing()) {
            KeyPair pair = generate();
            signingKey = pair.getPrivate();
            signingPublicKey = (RSAPublicKey) pair.getPublic();
            Log.warn("No signing key configured (auth.keys.signing-key-location / AUTH_SIGNING_KEY_LOCATION): "
                    + "generated a throw-away one. Its tokens die with this process and other replicas cannot verify them.");
        } else {
            throw new KeyConfigurationException("No signing key configured: set auth.keys.signing-key-location "
                    + "(env AUTH_SIGNING_KEY_LOCATION) to a PEM PKCS#8 RSA private key, e.g. one made with "
                    + "'openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out signing-key.pem'");
        }

        Map<String, RsaJsonWebKey> published = new LinkedHashMap<>();
        RsaJsonWebKey current = jwk(signingPublicKey);
        published.put(current.getKeyId(), current);
        for (Path file : verificationKeyFiles(config)) {
            RsaJsonWebKey previous = jwk(PemKeys.readPublicKey(file));
            published.putIfAbsent(previous.getKeyId(), previous);
        }
        return new KeyRing(signingKey, current.getKeyId(), new ArrayList<>(published.values()));
    }

    /** The JWKS document: public members only. */
    public List<Map<String, Object>> jwks() {
        return publicKeys.stream().map(key -> key.toParams(JsonWebKey.OutputControlLevel.PUBLIC_ONLY)).toList();
    }

    /** The RFC 7638 SHA-256 thumbprint of an RSA public key, base64url: the key id. */
    public static String thumbprint(RSAPublicKey key) {
        return new RsaJsonWebKey(key).calculateBase64urlEncodedThumbprint("SHA-256");
    }

    private static RsaJsonWebKey jwk(RSAPublicKey key) {
        RsaJsonWebKey jwk = new RsaJsonWebKey(key);
        jwk.setKeyId(thumbprint(key));
        jwk.setAlgorithm(ALGORITHM);
        jwk.setUse("sig");
        return jwk;
    }

    private static List<Path> verificationKeyFiles(AuthConfig.Keys config) {
        List<Path> files = new ArrayList<>();
        for (String location : config.verificationKeysLocation().orElse(List.of())) {
            Path path = Path.of(location.trim());
            if (Files.isDirectory(path)) {
                try (Stream<Path> entries = Files.list(path)) {
                    entries.filter(Files::isRegularFile)
                            .filter(file -> file.getFileName().toString().endsWith(".pem"))
                            .sorted()
                            .forEach(files::add);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list verification keys in " + path, e);
                }
            } else if (Files.isRegularFile(path)) {
                files.add(path);
            } else {
                throw new KeyConfigurationException("auth.keys.verification-keys-location: " + path
                        + " is neither a file nor a directory");
            }
        }
        return files;
    }

    private static KeyPair generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(PemKeys.MIN_RSA_BITS);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("RSA is always available", e);
        }
    }
}
