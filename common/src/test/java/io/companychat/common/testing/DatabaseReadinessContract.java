package io.companychat.common.testing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every service promises about its health endpoints: live always, ready only while its
 * database answers. A service's test extends this with {@code @QuarkusTest} and
 * {@code @WithTestResource(PostgresTestResource.class)}.
 */
public abstract class DatabaseReadinessContract {

    private static final Duration STATE_CHANGE_TIMEOUT = Duration.ofSeconds(20);

    @InjectTestDatabase
    protected TcpRelay databaseRelay;

    @AfterEach
    void bringDatabaseBack() {
        databaseRelay.restore();
    }

    @Test
    void readyIsUpWhileTheDatabaseAnswers() {
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void readyTurnsDownWhenTheDatabaseIsUnreachableAndUpWhenItIsBack() {
        databaseRelay.cut();
        awaitReadiness(503, "DOWN");
        given().when().get("/q/health/live").then().statusCode(200);

        databaseRelay.restore();
        awaitReadiness(200, "UP");
    }

    /** (Metrics only on the management port in the packaged jars: the system tests' HealthIT.) */
    @Test
    void metricsAndOpenApiAreServed() {
        given().when().get("/q/openapi").then().statusCode(200);
        given().port(ManagementMetrics.port()).when().get("/q/metrics").then().statusCode(200);
    }

    private static void awaitReadiness(int status, String state) {
        Awaitility.await("readiness " + status + " (" + state + ")").atMost(STATE_CHANGE_TIMEOUT)
                .pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> given().when().get("/q/health/ready").then().statusCode(status).body("status", equalTo(state)));
    }
}
