package io.companychat.auth.service;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.jwt.Claims;

import io.companychat.auth.client.User;
import io.companychat.auth.config.AuthConfig;
import io.companychat.auth.key.KeyRing;
import io.companychat.auth.key.SigningKeys;
import io.companychat.common.security.TokenClaims;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.build.Jwt;

/** Issues the tokens of API.md (Sessions): RS256, signed with the current key, its id in the header. */
@ApplicationScoped
public class TokenService {

    private final SigningKeys keys;
    private final Duration lifetime;

    public TokenService(SigningKeys keys, AuthConfig config) {
        this.keys = keys;
        this.lifetime = config.token().lifetime();
    }

    public IssuedToken issue(User user) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant expiresAt = now.plus(lifetime);
        KeyRing ring = keys.ring();
        String token = Jwt.issuer(TokenClaims.ISSUER)
                .subject(Long.toString(user.id()))
                .upn(user.email())
                .groups(TokenClaims.GROUPS)
                .claim(Claims.jti.name(), UUID.randomUUID().toString())
                .issuedAt(now)
                .expiresAt(expiresAt)
                .jws()
                .algorithm(SignatureAlgorithm.RS256)
                .keyId(ring.signingKeyId())
                .sign(ring.signingKey());
        return new IssuedToken(token, expiresAt.getEpochSecond());
    }

    /** A signed token and its {@code exp} in epoch seconds. */
    public record IssuedToken(String token, long expiresAt) {

        @Override
        public String toString() {
            return "IssuedToken[expiresAt=" + expiresAt + "]";
        }
    }
}
