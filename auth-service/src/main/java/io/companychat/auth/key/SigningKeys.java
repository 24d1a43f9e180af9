package io.companychat.auth.key;

import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;

import io.companychat.auth.config.AuthConfig;
import io.quarkus.logging.Log;
import io.quarkus.runtime.Startup;

/**
 * auth-service's key ring, loaded once at start so that a missing or broken key stops the service at once
 * rather than at the first login. Rotating keys means restarting with new configuration (see README).
 */
@Startup
@ApplicationScoped
public class SigningKeys {

    private final KeyRing ring;
    private final List<Map<String, Object>> jwks;

    public SigningKeys(AuthConfig config) {
        this.ring = KeyRing.load(config.keys());
        this.jwks = ring.jwks();
        Log.infof("Signing tokens with key %s; publishing %d key(s): %s", ring.signingKeyId(), jwks.size(),
                jwks.stream().map(key -> key.get(JsonWebKey.KEY_ID_PARAMETER)).toList());
    }

    public KeyRing ring() {
        return ring;
    }

    /** The members of each published key, as {@code GET /.well-known/jwks.json} serves them. */
    public List<Map<String, Object>> jwks() {
        return jwks;
    }

    /** The same keys as a JWKS document, for auth-service's own token verification. */
    public String jwksJson() {
        return new JsonWebKeySet(ring.publicKeys()).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
    }
}
