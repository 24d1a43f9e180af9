package io.companychat.auth.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import io.companychat.auth.service.RevocationService;
import io.companychat.common.security.RevocationList;
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
    /** {@code {"data": [{"jti": ..., "expires_at": ...}, ...]}}, the shape common's client reads. */
    public Uni<RevocationList> list() {
        return revocations.listKept().map(RevocationList::new);
    }
}
