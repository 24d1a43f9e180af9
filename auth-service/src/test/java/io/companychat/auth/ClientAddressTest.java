package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.login;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The client address behind the gateway: taken from X-Forwarded-For of a trusted proxy, and cheaply. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class ClientAddressTest {

    private static final String CLIENT = "203.0.113.77";
    /** Below the resolver's 5 s timeout, far above what a request needs on a busy machine. */
    private static final Duration NO_STALL = Duration.ofSeconds(2);
    /** Concurrent clients, each sending its requests one after another. */
    private static final int CLIENTS = 2;
    private static final int REQUESTS_PER_CLIENT = 25;

    @InjectTestDatabase
    TestDatabase database;

    @Test
    void failedLoginIsCountedForTheAddressTheGatewayForwarded() throws SQLException {
        String email = uniqueEmail("forwarded");

        login(email, "wrong-password", CLIENT).then().statusCode(401);

        try (Connection connection = database.connect();
                PreparedStatement query = connection.prepareStatement("SELECT client_address FROM login_failures WHERE email = ?")) {
            query.setString(1, email);
            try (ResultSet row = query.executeQuery()) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString(1)).isEqualTo(CLIENT);
            }
        }
    }

    /**
     * A trusted-proxy entry Quarkus takes for a host name costs a DNS lookup per request (5 s where DNS is mute), so every
     * request would stall. The median of 50 requests from two concurrent clients tells that apart from a busy machine's odd slow request.
     */
    @Test
    void trustedProxyCheckDoesNotStallRequests() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<List<Long>>> clients = new ArrayList<>();
            for (int client = 0; client < CLIENTS; client++) {
                clients.add(pool.submit(() -> {
                    List<Long> times = new ArrayList<>();
                    for (int i = 0; i < REQUESTS_PER_CLIENT; i++) {
                        long start = System.nanoTime();
                        given().header("X-Forwarded-For", CLIENT).when().get("/.well-known/jwks.json").then().statusCode(200);
                        times.add(System.nanoTime() - start);
                    }
                    return times;
                }));
            }
            List<Long> all = new ArrayList<>();
            for (Future<List<Long>> times : clients) {
                all.addAll(times.get());
            }
            all.sort(null);
            assertThat(Duration.ofNanos(all.get(all.size() / 2))).as("median of %d requests", all.size()).isLessThan(NO_STALL);
        } finally {
            pool.shutdownNow();
        }
    }
}
