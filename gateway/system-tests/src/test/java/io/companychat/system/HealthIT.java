package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The packaged jars (what the container images run) boot in the prod profile, migrate, and serve their health,
 * metrics and OpenAPI documents; readiness follows the database (DatabaseOutageIT). Every process serves its metrics
 * on its management port only; the gateway its health too.
 */
@ExtendWith(SystemExtension.class)
class HealthIT {

    private static RunningSystem system;

    @Test
    void everyServiceIsLiveAndReadyAndServesItsMetricsAndOpenApi() {
        for (String name : new String[] { "user-service", "auth-service", "chat-service", "chat-service-2" }) {
            String url = system.service(name).baseUrl();
            given().baseUri(url).when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
            given().baseUri(url).when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
            given().baseUri(url).when().get("/q/openapi").then().statusCode(200);
            given().baseUri(url).when().get("/q/metrics").then().statusCode(404);
            given().baseUri(system.managementUrl(name)).when().get("/q/metrics").then().statusCode(200);
        }
        String management = system.gatewayManagementUrl();
        given().baseUri(management).when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().baseUri(management).when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().baseUri(management).when().get("/q/metrics").then().statusCode(200);
    }
}
