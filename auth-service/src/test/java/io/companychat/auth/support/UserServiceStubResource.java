package io.companychat.auth.support;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Points auth-service's user-service client at a {@link UserServiceStub}, handed to test fields of that type. */
public class UserServiceStubResource implements QuarkusTestResourceLifecycleManager {

    private UserServiceStub stub;

    @Override
    public Map<String, String> start() {
        stub = UserServiceStub.start();
        return Map.of("quarkus.rest-client.user-service.url", stub.url());
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(stub, new TestInjector.MatchesType(UserServiceStub.class));
    }

    @Override
    public void stop() {
        if (stub != null) {
            stub.close();
        }
    }
}
