package io.companychat.auth.service;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.companychat.common.security.Revocation;
import io.companychat.common.security.RevocationSnapshot;
import io.smallrye.mutiny.Uni;

/**
 * auth-service owns {@code revoked_tokens}: its listener (common's RevokedTokens) reloads from the table
 * rather than from its own {@code /internal/revoked-tokens} over HTTP. Replaces common's REST-based default.
 */
@ApplicationScoped
public class DatabaseRevocationSnapshot implements RevocationSnapshot {

    private final RevocationService revocations;

    public DatabaseRevocationSnapshot(RevocationService revocations) {
        this.revocations = revocations;
    }

    @Override
    public Uni<List<Revocation>> load() {
        return revocations.listKept();
    }
}
