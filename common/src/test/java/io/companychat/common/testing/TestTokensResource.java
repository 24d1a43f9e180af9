package io.companychat.common.testing;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Points the service's token verification at a JWKS made for this run, and hands the matching
 * {@link TestTokens} to test fields annotated with {@link InjectTestTokens}.
 */
public class TestTokensResource implements QuarkusTestResourceLifecycleManager {

    private TestTokens tokens;

    @Override
    public Map<String, String> start() {
        tokens = TestTokens.create();
        return Map.of("mp.jwt.verify.publickey.location", tokens.jwksLocation());
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(tokens, new TestInjector.AnnotatedAndMatchesType(InjectTestTokens.class, TestTokens.class));
    }

    @Override
    public void stop() {
        // the JWKS file is deleted when the JVM exits
    }
}
