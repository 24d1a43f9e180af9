package io.companychat.auth.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Everything auth-service decides by configuration; see auth-service/README.md for the operator's view. */
@ConfigMapping(prefix = "auth")
public interface AuthConfig {

    Token token();

    Keys keys();

    LoginLimits loginLimits();

    Revocation revocation();

    Cleanup cleanup();

    interface Token {
        /** The lifetime of a token; the login's {@code expire} is issue time plus this. */
        @WithDefault("PT1H")
        Duration lifetime();
    }

    interface Keys {
        /** A PEM PKCS#8 RSA private key ("BEGIN PRIVATE KEY"): the key that signs new tokens. */
        Optional<String> signingKeyLocation();

        /**
         * PEM public keys ("BEGIN PUBLIC KEY") of earlier signing keys, still published so that their tokens
         * verify until they expire: files, or directories whose {@code *.pem} files are read.
         */
        Optional<List<String>> verificationKeysLocation();

        /** Without a signing key: make a throw-away one (dev, test) instead of refusing to start (prod). */
        @WithDefault("false")
        boolean generateIfMissing();
    }

    interface LoginLimits {
        /** The sliding window over which failed logins are counted. */
        @WithDefault("PT15M")
        Duration window();

        @WithDefault("5")
        int maxFailuresPerEmail();

        @WithDefault("50")
        int maxFailuresPerAddress();
    }

    interface Revocation {
        /**
         * How long a revocation is kept (and listed) after its token's expiry: verifiers accept a token for a
         * little while past {@code exp} (clock skew), so the revocation must outlive it by more than that.
         */
        @WithDefault("PT5M")
        Duration retentionAfterExpiry();
    }

    interface Cleanup {
        /** How often each replica deletes stale revocations and failed logins; read by {@code CleanupJob}'s schedule. */
        @WithDefault("PT1M")
        Duration interval();
    }
}
