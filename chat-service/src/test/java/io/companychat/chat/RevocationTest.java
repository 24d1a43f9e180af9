package io.companychat.chat;

import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.RevocationContract;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class RevocationTest extends RevocationContract {

    @Override
    protected String protectedPath() {
        return "/api/conversations";
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
