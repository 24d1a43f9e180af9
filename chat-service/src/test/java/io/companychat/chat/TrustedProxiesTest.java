package io.companychat.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;

import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import io.companychat.chat.support.UserServiceDouble;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.quarkus.runtime.configuration.InetSocketAddressConverter;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Every trusted proxy is an address or a CIDR range, never a name: Quarkus resolves names over
 * DNS on every request, so a slow resolver stalls every request by its timeout. This happened
 * (5 s stalls on 1 % of requests in the history benchmark) while {@code ::1} stood there without
 * brackets, which reads as the host {@code :} on port 1.
 */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(UserServiceDouble.class)
class TrustedProxiesTest {

    @Test
    void trustedProxiesAreAddressesNotNamesResolvedOnEveryRequest() {
        List<String> proxies = ConfigProvider.getConfig().getValues("quarkus.http.proxy.trusted-proxies", String.class);

        assertThat(proxies).as("trusted proxies").isNotEmpty();
        for (String proxy : proxies) {
            if (proxy.matches(".+/\\d+")) {
                continue;
            }
            // How Quarkus reads an entry that is not a CIDR range (TrustedProxyCheckPartConverter).
            InetSocketAddress address = new InetSocketAddressConverter().convert(proxy);
            assertThat(address.isUnresolved() || address.getAddress() == null)
                    .as("'%s' is read as host '%s', looked up on every request", proxy, address.getHostString())
                    .isFalse();
        }
    }
}
