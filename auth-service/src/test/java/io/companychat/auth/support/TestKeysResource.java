package io.companychat.auth.support;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Starts auth-service with the keys of a rotation in progress ({@link TestKeys}), handed to test fields of that type. */
public class TestKeysResource implements QuarkusTestResourceLifecycleManager {

    private TestKeys keys;

    @Override
    public Map<String, String> start() {
        keys = TestKeys.create();
        return Map.of(
                "auth.keys.signing-key-location", keys.signingKeyFile().toString(),
                "auth.keys.verification-keys-location", keys.verificationKeysDirectory().toString(),
                "auth.keys.generate-if-missing", "false");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(keys, new TestInjector.MatchesType(TestKeys.class));
    }

    @Override
    public void stop() {
        if (keys != null) {
            keys.delete();
        }
    }
}
