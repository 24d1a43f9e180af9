package io.companychat.auth;

import io.companychat.common.testing.DatabaseReadinessContract;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class HealthTest extends DatabaseReadinessContract {
}
