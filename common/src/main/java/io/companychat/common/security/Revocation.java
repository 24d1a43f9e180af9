package io.companychat.common.security;

import java.time.Instant;

/** A revoked token id and the moment the token would have expired anyway. */
public record Revocation(String jti, Instant expiresAt) {
}
