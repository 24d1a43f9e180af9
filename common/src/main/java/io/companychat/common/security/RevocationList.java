package io.companychat.common.security;

import java.util.List;

/** Body of auth-service's {@code GET /internal/revoked-tokens}. */
public record RevocationList(List<Revocation> data) {
}
