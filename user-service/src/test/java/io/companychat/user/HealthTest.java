package io.companychat.user;

import io.companychat.common.testing.DatabaseReadinessContract;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.GreenMailResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class HealthTest extends DatabaseReadinessContract {
}
