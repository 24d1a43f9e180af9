package io.companychat.common.security;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Not ready while this service may not know every revoked token: before the list is first loaded, and from a
 * loss of the LISTEN connection until the list is reloaded on the new one. A replica that is not ready gets no
 * traffic (Kubernetes, the local run and the system tests wait for readiness), so a logged-out token is never
 * accepted because a replica had not heard of its logout.
 */
@Readiness
@ApplicationScoped
public class RevocationReadiness implements HealthCheck {

    static final String NAME = "revoked tokens";

    private final RevokedTokens revokedTokens;

    public RevocationReadiness(RevokedTokens revokedTokens) {
        this.revokedTokens = revokedTokens;
    }

    @Override
    public HealthCheckResponse call() {
        boolean current = revokedTokens.isCurrent();
        return HealthCheckResponse.named(NAME).status(current)
                .withData("list", current ? "loaded" : "not loaded since the LISTEN connection (re)started")
                .build();
    }
}
