package io.companychat.auth;

import io.companychat.auth.support.TestKeysResource;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusIntegrationTest;

/**
 * The packaged jar (what the container images run) boots, migrates and answers its health checks. It runs in
 * the prod profile, which refuses to start without a signing key: it gets key files, as a deployment does.
 */
@QuarkusIntegrationTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestKeysResource.class)
class HealthIT extends HealthTest {
}
