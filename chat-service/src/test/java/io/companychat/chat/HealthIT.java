package io.companychat.chat;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The packaged jar (what the container images run) boots, migrates and answers its health checks. */
@QuarkusIntegrationTest
class HealthIT extends HealthTest {
}
