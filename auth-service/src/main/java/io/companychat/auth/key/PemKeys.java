package io.companychat.auth.key;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads RSA keys from PEM files as {@code openssl genpkey} / {@code openssl pkey -pubout} write them. */
final class PemKeys {

    static final int MIN_RSA_BITS = 2048;

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private PemKeys() {
    }

    static RSAPrivateCrtKey readPrivateKey(Path file) {
        byte[] der = body(file, "PRIVATE KEY");
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new KeyConfigurationException(file + " does not hold an RSA private key: " + e.getMessage(), e);
        }
        if (!(key instanceof RSAPrivateCrtKey crt)) {
            throw new KeyConfigurationException(file + " holds an RSA private key without its CRT parameters; "
                    + "write it with 'openssl genpkey -algorithm RSA'");
        }
        requireStrength(crt.getModulus().bitLength(), file);
        return crt;
    }

    static RSAPublicKey readPublicKey(Path file) {
        byte[] der = body(file, "PUBLIC KEY");
        PublicKey key;
        try {
            key = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new KeyConfigurationException(file + " does not hold an RSA public key: " + e.getMessage(), e);
        }
        RSAPublicKey rsa = (RSAPublicKey) key;
        requireStrength(rsa.getModulus().bitLength(), file);
        return rsa;
    }

    static RSAPublicKey publicKeyOf(RSAPrivateCrtKey privateKey) {
        try {
            return (RSAPublicKey) KeyFactory.getInstance("RSA")
                    .generatePublic(new RSAPublicKeySpec(privateKey.getModulus(), privateKey.getPublicExponent()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("RSA is always available", e);
        }
    }

    private static byte[] body(Path file, String expectedType) {
        String pem;
        try {
            pem = Files.readString(file);
        } catch (IOException e) {
            throw new KeyConfigurationException("cannot read key file " + file + ": " + e, e);
        }
        Matcher block = BLOCK.matcher(pem);
        if (!block.find()) {
            throw new KeyConfigurationException(file + " is not a PEM file (no -----BEGIN " + expectedType + "----- block)");
        }
        String type = block.group(1);
        if (!type.equals(expectedType)) {
            throw new KeyConfigurationException(file + " holds a PEM '" + type + "', expected '" + expectedType + "'"
                    + hint(type));
        }
        try {
            return Base64.getMimeDecoder().decode(block.group(2).replaceAll("\\s", ""));
        } catch (IllegalArgumentException e) {
            throw new KeyConfigurationException(file + " has a corrupt PEM body", e);
        }
    }

    private static String hint(String type) {
        return switch (type) {
            case "RSA PRIVATE KEY" -> " (PKCS#1; convert it with 'openssl pkcs8 -topk8 -nocrypt -in old.pem -out new.pem')";
            case "ENCRYPTED PRIVATE KEY" -> " (the key must not be password-protected; protect the file instead)";
            case "RSA PUBLIC KEY" -> " (PKCS#1; convert it with 'openssl rsa -RSAPublicKey_in -in old.pem -pubout')";
            default -> "";
        };
    }

    private static void requireStrength(int bits, Path file) {
        if (bits < MIN_RSA_BITS) {
            throw new KeyConfigurationException(file + " holds a " + bits + "-bit RSA key; at least " + MIN_RSA_BITS
                    + " bits are required");
        }
    }
}
