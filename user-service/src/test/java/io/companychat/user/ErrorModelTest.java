package io.companychat.user;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.containsString;

import org.junit.jupiter.api.Test;

import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.GreenMailResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/** The API.md error bodies, produced by common's mappers, through real HTTP. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class ErrorModelTest {

    private static final String PROBE = "/test/error-model";
    private static final String VALID = "{\"person\": {\"name\": \"Ada\", \"email_address\": \"ada@example.com\", \"age\": 36}}";

    @Test
    void validBodyPassesThroughWithSnakeCaseNames() {
        given().contentType(ContentType.JSON).body(VALID)
                .when().post(PROBE)
                .then().statusCode(200)
                .body("person.email_address", equalTo("ada@example.com"))
                .body("person.age", equalTo(36));
    }

    @Test
    void malformedJsonIs400WithMessage() {
        given().contentType(ContentType.JSON).body("{\"person\": {\"name\": ")
                .when().post(PROBE)
                .then().statusCode(400)
                .contentType(ContentType.JSON)
                .body("message", equalTo("malformed JSON"));
        // one JSON value per body: whatever follows it makes the body malformed, not ignored
        for (String trailing : new String[] { "xyz", "}", " {\"person\": {}}", ",[1" }) {
            given().contentType(ContentType.JSON).body("{\"person\": {\"name\": \"Ada\"}}" + trailing)
                    .when().post(PROBE)
                    .then().statusCode(400)
                    .body("message", equalTo("malformed JSON"));
        }
    }

    @Test
    void wrongTypeIs400NamingTheField() {
        given().contentType(ContentType.JSON).body("{\"person\": {\"name\": 5}}")
                .when().post(PROBE)
                .then().statusCode(400)
                .body("message", equalTo("invalid value for person.name"));
        given().contentType(ContentType.JSON).body("{\"person\": {\"name\": \"Ada\", \"age\": \"36\"}}")
                .when().post(PROBE)
                .then().statusCode(400)
                .body("message", equalTo("invalid value for person.age"));
        given().contentType(ContentType.JSON).body("[1, 2]")
                .when().post(PROBE)
                .then().statusCode(400)
                .body("message", not(containsString("Exception")));
    }

    @Test
    void deeplyNestedJsonIs400() {
        String deep = "{\"person\": {\"name\": \"Ada\", \"extra\": " + "[".repeat(500) + "]".repeat(500) + "}}";
        given().contentType(ContentType.JSON).body(deep)
                .when().post(PROBE)
                .then().statusCode(400)
                .body("message", containsString("nested"));
    }

    @Test
    void validationFailuresAre422WithTheOriginalMessagesPerField() {
        given().contentType(ContentType.JSON).body("{\"person\": {\"name\": \"  \", \"email_address\": \"not-an-email\"}}")
                .when().post(PROBE)
                .then().statusCode(422)
                .body("errors.name", contains("can't be blank"))
                .body("errors.email_address", contains("has invalid format"));
        given().contentType(ContentType.JSON).body("{\"person\": {\"name\": \"Bartholomew Jr\"}}")
                .when().post(PROBE)
                .then().statusCode(422)
                .body("errors.name", contains("should be at most 10 character(s)"));
        given().contentType(ContentType.JSON).body("{}")
                .when().post(PROBE)
                .then().statusCode(422)
                .body("errors.person", contains("can't be blank"));
    }

    @Test
    void emptyBodyIs422NotA500() {
        given().contentType(ContentType.JSON)
                .when().post(PROBE)
                .then().statusCode(422)
                .body("errors.envelope", contains("can't be blank"));
    }

    @Test
    void ruleCheckedByTheServiceIs422() {
        given().contentType(ContentType.JSON).body(VALID)
                .when().post(PROBE + "/taken")
                .then().statusCode(422)
                .body("errors.email_address", contains("has already been taken"));
    }

    @Test
    void otherClientErrorsCarryAMessage() {
        given().when().get("/no/such/route")
                .then().statusCode(404).contentType(ContentType.JSON).body("message", equalTo("not found"));
        given().contentType(ContentType.TEXT).body("hello")
                .when().post(PROBE)
                .then().statusCode(415).body("message", containsString("unsupported media type"));
        given().when().delete(PROBE)
                .then().statusCode(405).body("message", equalTo("method not allowed"));
    }

    @Test
    void oversizedBodyIs413() {
        String huge = "{\"person\": {\"name\": \"" + "x".repeat(70 * 1024) + "\"}}";
        given().contentType(ContentType.JSON).body(huge)
                .when().post(PROBE)
                .then().statusCode(413);
    }

    @Test
    void bugIs500WithoutStackTraceOrDetails() {
        Response response = given().when().get(PROBE + "/bug");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.jsonPath().getString("message")).isEqualTo("internal server error");
        assertThat(response.asString()).doesNotContain("hunter2").doesNotContain("at io.");
    }
}
