package io.companychat.common.testing;

import java.util.Map;

import io.companychat.common.notify.PgNotifications;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Gives a service under test its own fresh database for the run (created here, dropped in
 * {@link #stop()}), reached through a {@link TcpRelay} so tests can take the database away.
 * Tests receive the {@link TestDatabase} and the {@link TcpRelay} in fields of those types
 * annotated with {@link InjectTestDatabase}.
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {

    private TestDatabase database;
    private TcpRelay relay;

    @Override
    public Map<String, String> start() {
        database = TestDatabase.create();
        relay = TcpRelay.start(database.host(), database.port());
        String address = "127.0.0.1:" + relay.port() + "/" + database.name();
        return Map.of(
                "quarkus.datasource.reactive.url", "postgresql://" + address,
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://" + address,
                "quarkus.datasource.username", database.user(),
                "quarkus.datasource.password", database.password(),
                // A LISTEN connection that died silently is noticed within seconds, not the deployed 10 + 5 s.
                PgNotifications.HEARTBEAT_INTERVAL_KEY, "1s",
                PgNotifications.HEARTBEAT_TIMEOUT_KEY, "3s");
    }

    @Override
    public void inject(TestInjector testInjector) {
        testInjector.injectIntoFields(database,
                new TestInjector.AnnotatedAndMatchesType(InjectTestDatabase.class, TestDatabase.class));
        testInjector.injectIntoFields(relay,
                new TestInjector.AnnotatedAndMatchesType(InjectTestDatabase.class, TcpRelay.class));
    }

    @Override
    public void stop() {
        if (relay != null) {
            relay.close();
        }
        if (database != null) {
            database.close();
        }
    }
}
