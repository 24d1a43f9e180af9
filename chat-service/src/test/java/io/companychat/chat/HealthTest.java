package io.companychat.chat;

import io.companychat.common.testing.DatabaseReadinessContract;
import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class HealthTest extends DatabaseReadinessContract {
}
