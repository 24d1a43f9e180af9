package io.companychat.chat;

import io.companychat.common.testing.DatabaseReadinessContract;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
// Ready only once the revoked-token list is loaded: from this auth-service stand-in.
@WithTestResource(TestTokensResource.class)
class HealthTest extends DatabaseReadinessContract {
}
