package io.companychat.user;

import io.companychat.common.testing.DatabaseReadinessContract;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
class HealthTest extends DatabaseReadinessContract {
}
