package io.companychat.gateway.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/** One file of the web client, held in memory with its content type and a strong validator. */
record WebAsset(byte[] bytes, String contentType, String etag) {

    static WebAsset of(byte[] bytes, String contentType) {
        return new WebAsset(bytes, contentType, etagOf(bytes));
    }

    static WebAsset of(String text, String contentType) {
        return of(text.getBytes(StandardCharsets.UTF_8), contentType);
    }

    /** A quoted prefix of the content's SHA-256: it changes whenever the file does, whichever build served it. */
    private static String etagOf(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return '"' + Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 22) + '"';
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Whether an {@code If-None-Match} header names this version (weak comparison, as RFC 9110 asks for GET). */
    boolean matches(String ifNoneMatch) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String tag : ifNoneMatch.split(",")) {
            String candidate = tag.trim();
            if (candidate.startsWith("W/")) {
                candidate = candidate.substring(2);
            }
            if (candidate.equals("*") || candidate.equals(etag)) {
                return true;
            }
        }
        return false;
    }
}
