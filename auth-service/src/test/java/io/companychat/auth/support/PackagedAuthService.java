package io.companychat.auth.support;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import io.companychat.common.testing.ServiceProcess;

/**
 * The packaged auth-service ({@code target/quarkus-app}, prod profile) as a process of its own, through common's one
 * launcher ({@link ServiceProcess}): what every such start of auth-service needs besides the test's own settings.
 */
public final class PackagedAuthService {

    public static final Duration START_LIMIT = Duration.ofSeconds(90);

    private PackagedAuthService() {
    }

    /** Starts it (without waiting) with {@code env}, a generated signing key and a service credential. */
    public static ServiceProcess start(String name, Map<String, String> env) {
        Map<String, String> environment = new HashMap<>(Map.of("AUTH_KEYS_GENERATE_IF_MISSING", "true",
                "INTERNAL_SERVICE_TOKEN", "packaged-auth-service-test"));
        environment.putAll(env);
        ServiceProcess service = ServiceProcess.ofModule(name, environment, START_LIMIT);
        service.start();
        return service;
    }
}
