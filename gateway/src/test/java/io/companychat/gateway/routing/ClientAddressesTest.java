package io.companychat.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Behind an Ingress: the peer (loopback here) plays the controller, a trusted proxy, so the client address comes from
 * its X-Forwarded-For, read from the right past trusted hops; what the client itself wrote there is not believed.
 * That the gateway hands this address to the services, and drops what clients send, is RoutingTest's.
 */
class ClientAddressesTest {

    private static final ClientAddresses BEHIND_INGRESS = new ClientAddresses(List.of("127.0.0.0/8", "::1", "10.0.0.0/8"));

    @ParameterizedTest(name = "X-Forwarded-For \"{0}\" from a trusted proxy: the client is {1}")
    @CsvSource(delimiter = '|', value = {
            "203.0.113.7                          | 203.0.113.7",
            "198.51.100.1, 203.0.113.7            | 203.0.113.7",
            "203.0.113.7, 10.1.2.3                | 203.0.113.7",
            "198.51.100.1, 203.0.113.7, 10.1.2.3  | 203.0.113.7",
            "not-an-address, 203.0.113.7          | 203.0.113.7",
            "203.0.113.7, evil.example.com        | 127.0.0.1",
            "10.9.9.9, 10.1.2.3                   | 10.9.9.9",
            "2001:db8::1                          | 2001:db8:0:0:0:0:0:1",
            "''                                   | 127.0.0.1",
    })
    void clientAddressIsTheRightmostUntrustedHop(String forwardedFor, String client) {
        List<String> headers = forwardedFor.isEmpty() ? List.of() : List.of(forwardedFor);

        assertThat(BEHIND_INGRESS.of("127.0.0.1", headers)).as("the client address").isEqualTo(client);
    }

    @Test
    void hopsSplitOverSeveralHeadersAreReadAsOneList() {
        assertThat(BEHIND_INGRESS.of("127.0.0.1", List.of("198.51.100.1", "203.0.113.7, 10.1.2.3"))).isEqualTo("203.0.113.7");
    }

    @Test
    void anUntrustedPeerIsTheClientWhateverItClaims() {
        assertThat(BEHIND_INGRESS.of("192.0.2.9", List.of("203.0.113.7"))).isEqualTo("192.0.2.9");
        assertThat(new ClientAddresses(List.of()).of("127.0.0.1", List.of("203.0.113.7"))).isEqualTo("127.0.0.1");
    }

    @Test
    void aTrustedProxyThatIsNotAnAddressOrBlockIsRefusedAtStart() {
        assertThatThrownBy(() -> new ClientAddresses(List.of("ingress.example.com")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an IP address or CIDR block");
        assertThatThrownBy(() -> new ClientAddresses(List.of("10.0.0.0/33")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad prefix length");
    }
}
