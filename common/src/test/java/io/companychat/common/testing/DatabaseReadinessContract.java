package io.companychat.common.testing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.time.Duration;
import java.time.Instant;

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

    @Test
    void metricsAndOpenApiAreServed() {
        given().when().get("/q/metrics").then().statusCode(200);
        given().when().get("/q/openapi").then().statusCode(200);
    }

    private static void awaitReadiness(int status, String state) {
        Instant deadline = Instant.now().plus(STATE_CHANGE_TIMEOUT);
        int last = -1;
        while (Instant.now().isBefore(deadline)) {
            last = given().when().get("/q/health/ready").statusCode();
            if (last == status) {
                given().when().get("/q/health/ready").then().statusCode(status).body("status", equalTo(state));
                return;
            }
            sleep(250);
        }
        throw new AssertionError("readiness stayed at HTTP " + last + ", expected " + status + " (" + state + ") within "
                + STATE_CHANGE_TIMEOUT.toSeconds() + " s");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
