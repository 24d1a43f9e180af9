package io.companychat.auth.rest;

import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import io.companychat.auth.RevokedToken;
import io.companychat.auth.service.RevocationService;
import io.smallrye.mutiny.Uni;

/**
 * For the other services (common's ServiceCredentialFilter demands X-Service-Token): every revocation still in
 * force, to (re)load their set after (re)connecting to the {@code token_revoked} notifications.
 */
@Path("/internal/revoked-tokens")
public class RevokedTokenResource {

    private final RevocationService revocations;

    public RevokedTokenResource(RevocationService revocations) {
        this.revocations = revocations;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<RevokedTokens> list() {
        return revocations.listKept().map(RevokedTokens::new);
    }

    /** {@code {"data": [{"jti": ..., "expires_at": ...}, ...]}} */
    public record RevokedTokens(List<RevokedToken> data) {
    }
}
