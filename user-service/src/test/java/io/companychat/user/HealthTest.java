package io.companychat.user;

import io.companychat.common.testing.DatabaseReadinessContract;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** Ready only while the database answers and the revoked-token list is loaded (from the auth-service stand-in). */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
class HealthTest extends DatabaseReadinessContract {
}
