package io.companychat.gateway;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The packaged jar (what the container images run) routes as the tests of the dev build say. */
@QuarkusIntegrationTest
class RoutingIT extends RoutingTest {
}
