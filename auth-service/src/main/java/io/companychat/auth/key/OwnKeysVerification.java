package io.companychat.auth.key;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;

import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.config.JWTAuthContextInfoProvider;

/**
 * auth-service verifies tokens (on /api/logout) with the very keys it publishes, handed to smallrye-jwt in
 * memory. The other services fetch the same keys from {@code /.well-known/jwks.json}; auth-service calling its
 * own URL would depend on its own port, address and readiness, and a JWKS file written at start would race with
 * smallrye-jwt reading it. Everything else (issuer, algorithm, clock skew) still comes from {@code mp.jwt.*}.
 */
@Dependent
public class OwnKeysVerification {

    @Produces
    @Alternative
    @Priority(1)
    @ApplicationScoped
    JWTAuthContextInfo verifyWithOwnKeys(JWTAuthContextInfoProvider provider, SigningKeys keys) {
        JWTAuthContextInfo info = new JWTAuthContextInfo(provider.getContextInfo());
        info.setPublicKeyLocation(null);
        info.setPublicKeyContent(keys.jwksJson());
        return info;
    }
}
