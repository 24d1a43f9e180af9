package io.companychat.user;

import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.RevocationContract;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.GreenMailResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class RevocationTest extends RevocationContract {

    /** Any valid token may list users; nothing is looked up for the caller. */
    @Override
    protected String protectedPath() {
        return "/api/users";
    }

    @Override
    protected long userId() {
        return 1;
    }

    @Override
    protected String email() {
        return "ann@example.com";
    }
}
