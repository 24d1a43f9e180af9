package io.companychat.auth.service;

import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.companychat.common.api.Ids;
import io.companychat.auth.config.AuthConfig;
import io.companychat.auth.repository.RevokedTokenRepository;
import io.companychat.common.security.Revocation;
import io.companychat.common.security.RevokedTokens;
import io.quarkus.security.AuthenticationFailedException;
import io.smallrye.mutiny.Uni;

/**
 * Logout: the token's id is revoked until the token expires, for every service. The others learn it from the
 * {@code token_revoked} notification (common's {@link RevokedTokens}), or from {@code /internal/revoked-tokens}
 * after reconnecting; this replica adds it to its own set at once.
 */
@ApplicationScoped
public class RevocationService {

    private static final int MAX_JTI_LENGTH = 64;

    private final RevokedTokenRepository revoked;
    private final RevokedTokens refused;
    private final AuthConfig.Revocation config;

    public RevocationService(RevokedTokenRepository revoked, RevokedTokens refused, AuthConfig config) {
        this.revoked = revoked;
        this.refused = refused;
        this.config = config.revocation();
    }

    /**
     * Revokes the caller's (already verified) token. A token that is revoked already is refused like any
     * invalid token: the insert that finds it there is the check, so two concurrent logouts cannot both pass.
     */
    public Uni<Void> revoke(JsonWebToken token) {
        String jti = token.getTokenID();
        OptionalLong userId = Ids.parse(token.getSubject());
        if (jti == null || jti.isBlank() || jti.length() > MAX_JTI_LENGTH || userId.isEmpty()) {
            return Uni.createFrom().failure(new AuthenticationFailedException("token without a usable jti or sub"));
        }
        long expiresAt = token.getExpirationTime();
        return revoked.revoke(jti, userId.getAsLong(), expiresAt)
                .flatMap(inserted -> {
                    if (!inserted) {
                        return Uni.createFrom().failure(new AuthenticationFailedException("token already revoked"));
                    }
                    refused.add(new Revocation(jti, Instant.ofEpochSecond(expiresAt)));
                    return Uni.createFrom().voidItem();
                });
    }

    public Uni<List<Revocation>> listKept() {
        return revoked.listKept(config.retentionAfterExpiry());
    }

    public Uni<Integer> deleteExpired() {
        return revoked.deleteExpiredBefore(config.retentionAfterExpiry());
    }
}
