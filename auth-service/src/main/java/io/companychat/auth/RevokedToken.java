package io.companychat.auth;

import java.time.Instant;

/** A revoked token id and when the token would have expired anyway (a row of {@code revoked_tokens}). */
public record RevokedToken(String jti, Instant expiresAt) {
}
