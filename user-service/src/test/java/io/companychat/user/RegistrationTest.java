package io.companychat.user;

import static io.companychat.user.support.Fixtures.JOB;
import static io.companychat.user.support.Fixtures.NAME;
import static io.companychat.user.support.Fixtures.SUBNAME;
import static io.companychat.user.support.Fixtures.fields;
import static io.companychat.user.support.Fixtures.registration;
import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.Fixtures;
import io.companychat.user.support.GreenMailResource;
import io.companychat.user.support.InjectMailServer;
import io.companychat.user.support.ReceivedMail;
import io.companychat.user.support.Rows;
import io.companychat.user.support.TestMailServer;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/** {@code POST /api/users}, through real HTTP, PostgreSQL and SMTP. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class RegistrationTest {

    private static final String USERS = "/api/users";
    private static final Duration MAIL_TIMEOUT = Duration.ofSeconds(20);
    private static final String LONGEST = "x".repeat(255);
    private static final String TOO_LONG = "x".repeat(256);
    private static final String TOO_LONG_MESSAGE = "should be at most 255 character(s)";

    @InjectTestDatabase
    TestDatabase database;

    @InjectMailServer
    TestMailServer mailServer;

    private Rows rows;

    @BeforeEach
    void setUp() {
        rows = new Rows(database);
        mailServer.start();
    }

    @Test
    void registrationIs201WithExactlyTheUserFields() {
        String email = uniqueEmail("fields");

        Response response = given().contentType(ContentType.JSON).body(registration(email)).when().post(USERS);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(201);
        assertThat(response.contentType()).startsWith("application/json");
        Map<String, Object> user = response.jsonPath().getMap("");
        assertThat(user).containsOnlyKeys("id", "name", "subname", "email", "job");
        assertThat(user).containsEntry("name", NAME).containsEntry("subname", SUBNAME)
                .containsEntry("email", email).containsEntry("job", JOB);
        long id = response.jsonPath().getLong("id");
        assertThat(id).isPositive();
        assertThat(rows.one("SELECT email FROM users WHERE id = ?", id)).containsEntry("email", email);
    }

    @Test
    void registrationStoresOnlyAHashAndMailsThePasswordThatMatchesIt() {
        String email = uniqueEmail("mailed");

        String body = given().contentType(ContentType.JSON).body(registration(email))
                .when().post(USERS)
                .then().statusCode(201).extract().asString();

        ReceivedMail mail = mailServer.awaitMailsTo(email, 1, MAIL_TIMEOUT).get(0);
        assertThat(mail.subject()).isEqualTo("Generated password");
        assertThat(mail.from()).contains("no-reply@company-chat.local");
        String password = Fixtures.passwordIn(mail.text());
        assertThat(password).hasSizeGreaterThanOrEqualTo(16);
        assertThat(mail.html()).as("the HTML body").contains(password);

        String hash = (String) rows.one("SELECT password_hash FROM users WHERE email = ?", email).get("password_hash");
        assertThat(hash).as("a bcrypt hash of cost 10").startsWith("$2a$10$").doesNotContain(password);
        assertThat(BcryptUtil.matches(password, hash)).as("the mailed password verifies against the stored hash").isTrue();
        assertThat(body).doesNotContain(password).doesNotContain("password").doesNotContain(hash);
    }

    @Test
    void generatedPasswordsDifferBetweenUsers() {
        String first = uniqueEmail("first");
        String second = uniqueEmail("second");
        Fixtures.register(first);
        Fixtures.register(second);

        String firstPassword = Fixtures.passwordIn(mailServer.awaitMailsTo(first, 1, MAIL_TIMEOUT).get(0).text());
        String secondPassword = Fixtures.passwordIn(mailServer.awaitMailsTo(second, 1, MAIL_TIMEOUT).get(0).text());

        assertThat(firstPassword).isNotEqualTo(secondPassword);
    }

    @Test
    void passwordFieldInTheBodyIsIgnored() {
        String email = uniqueEmail("chosen");
        Map<String, Object> user = fields(NAME, SUBNAME, email, JOB);
        user.put("password", "my-own-password-123");
        user.put("admin", true);

        String body = given().contentType(ContentType.JSON).body(registration(user))
                .when().post(USERS)
                .then().statusCode(201).extract().asString();

        String hash = (String) rows.one("SELECT password_hash FROM users WHERE email = ?", email).get("password_hash");
        assertThat(BcryptUtil.matches("my-own-password-123", hash)).as("the client's password must not be used").isFalse();
        assertThat(body).doesNotContain("my-own-password-123");
    }

    @Test
    void valuesAreStoredTrimmed() {
        String email = uniqueEmail("trimmed");

        given().contentType(ContentType.JSON).body(registration(fields("  Ada ", "\tLovelace", " " + email + " ", " Analyst\n")))
                .when().post(USERS)
                .then().statusCode(201);

        assertThat(rows.one("SELECT name, subname, job FROM users WHERE email = ?", email))
                .containsEntry("name", "Ada").containsEntry("subname", "Lovelace").containsEntry("job", "Analyst");
    }

    @Test
    void fieldsOfTheMaximumLengthAreAccepted() {
        String email = LONGEST.substring(0, 255 - "@example.com".length()) + "@example.com";

        given().contentType(ContentType.JSON).body(registration(fields(LONGEST, LONGEST, email, LONGEST)))
                .when().post(USERS)
                .then().statusCode(201);
    }

    static Stream<Arguments> missingFields() {
        return Stream.of("name", "subname", "email", "job").flatMap(field -> Stream.of(
                Arguments.of(field, "absent"), Arguments.of(field, null), Arguments.of(field, ""), Arguments.of(field, "   ")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("missingFields")
    void eachMissingFieldIs422CantBeBlank(String field, String value) {
        Map<String, Object> user = fields(NAME, SUBNAME, uniqueEmail("missing"), JOB);
        if ("absent".equals(value)) {
            user.remove(field);
        } else {
            user.put(field, value);
        }

        assertRefused(registration(user), 422, Map.of(field, List.of("can't be blank")));
    }

    @Test
    void allMissingFieldsAreReportedTogether() {
        assertRefused(registration(Map.of()), 422, Map.of(
                "name", List.of("can't be blank"), "subname", List.of("can't be blank"),
                "email", List.of("can't be blank"), "job", List.of("can't be blank")));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ada", "ada@example", "@example.com", "ada@.com x", "ada lovelace@example.com", "ada@exa mple.com",
            "ada@example.", "ada@example.com\u0000", "<b>bold</b>-x@example.com", "<ada@example.com>" })
    void badEmailIs422HasInvalidFormat(String email) {
        assertRefused(registration(fields(NAME, SUBNAME, email, JOB)), 422, Map.of("email", List.of("has invalid format")));
    }

    @Test
    void registrationWithDuplicateEmailInOtherCaseIs422() {
        String email = uniqueEmail("Taken");
        Fixtures.register(email);

        assertRefused(registration(email.toUpperCase()), 422, Map.of("email", List.of("has already been taken")));
        assertRefused(registration(email), 422, Map.of("email", List.of("has already been taken")));
    }

    @ParameterizedTest
    @ValueSource(strings = { "name", "subname", "email", "job" })
    void overlongFieldIs422(String field) {
        Map<String, Object> user = fields(NAME, SUBNAME, uniqueEmail("long"), JOB);
        user.put(field, "email".equals(field) ? TOO_LONG.substring(0, 256 - "@example.com".length()) + "@example.com" : TOO_LONG);

        assertRefused(registration(user), 422, Map.of(field, List.of(TOO_LONG_MESSAGE)));
    }

    @Test
    void nulCharacterInANameIs422NotA500() {
        assertRefused(registration(fields("Ada\u0000", SUBNAME, uniqueEmail("nul"), JOB)), 422,
                Map.of("name", List.of("has invalid format")));
    }

    @Test
    void missingUserIs422() {
        assertRefused(Map.of(), 422, Map.of("user", List.of("can't be blank")));
        assertRefusedRaw("{\"user\": null}", 422);
        assertRefusedRaw("", 422);
    }

    @ParameterizedTest
    @ValueSource(strings = { "{\"user\": {\"name\": ", "not json", "{\"user\": {\"name\": 5, \"subname\": \"L\", \"email\": \"a@b.co\", \"job\": \"j\"}}",
            "{\"user\": {\"name\": \"Ada\", \"subname\": \"L\", \"email\": [\"a@b.co\"], \"job\": \"j\"}}",
            "{\"user\": {\"name\": \"Ada\", \"subname\": \"L\", \"email\": \"a@b.co\", \"job\": true}}",
            "{\"user\": \"Ada\"}", "[1, 2]" })
    void bodyThatIsNotJsonOrHasWrongTypesIs400(String body) {
        List<Long> before = rows.footprint();

        Response response = given().contentType(ContentType.JSON).body(body).when().post(USERS);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(400);
        assertThat(response.jsonPath().getString("message")).isNotBlank();
        assertThat(rows.footprint()).as("users and outbox rows").isEqualTo(before);
    }

    @Test
    void concurrentRegistrationsOfOneEmailStoreOneUserAndAnswer422ToTheOthers() throws Exception {
        String email = uniqueEmail("race");
        int attempts = 6;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(attempts);
        try {
            List<CompletableFuture<Response>> responses = new ArrayList<>();
            for (int i = 0; i < attempts; i++) {
                String variant = i % 2 == 0 ? email : email.toUpperCase();
                responses.add(CompletableFuture.supplyAsync(() -> {
                    await(start);
                    return given().contentType(ContentType.JSON).body(registration(variant)).when().post(USERS);
                }, pool));
            }
            start.countDown();

            List<Integer> statuses = new ArrayList<>();
            for (CompletableFuture<Response> response : responses) {
                Response r = response.get();
                statuses.add(r.statusCode());
                if (r.statusCode() == 422) {
                    assertThat(r.jsonPath().getList("errors.email")).containsExactly("has already been taken");
                }
            }
            assertThat(statuses).as("one 201, the others 422").containsOnly(201, 422).containsOnlyOnce(201);
        } finally {
            pool.shutdownNow();
        }
        assertThat(rows.count("SELECT count(*) FROM users WHERE lower(email) = lower(?)", email)).isEqualTo(1);
        assertThat(rows.count("SELECT count(*) FROM mail_outbox WHERE lower(recipient) = lower(?)", email)).isEqualTo(1);
    }

    private void assertRefused(Object body, int status, Map<String, List<String>> errors) {
        List<Long> before = rows.footprint();

        Response response = given().contentType(ContentType.JSON).body(body).when().post(USERS);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(status);
        assertThat(response.jsonPath().getMap("errors")).as(response.asString()).isEqualTo(errors);
        assertThat(rows.footprint()).as("users and outbox rows").isEqualTo(before);
    }

    private void assertRefusedRaw(String body, int status) {
        List<Long> before = rows.footprint();

        Response response = given().contentType(ContentType.JSON).body(body).when().post(USERS);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(status);
        assertThat(response.jsonPath().getMap("errors")).as(response.asString()).isNotEmpty();
        assertThat(rows.footprint()).as("users and outbox rows").isEqualTo(before);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
