package io.companychat.user;

import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.InjectTestTokens;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokens;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.GreenMailResource;
import io.companychat.user.support.Rows;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/** {@code GET /api/users}, {@code /api/users/me}, {@code /api/users/{id}}: token required, cursor paging. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(TestTokensResource.class)
@WithTestResource(GreenMailResource.class)
class UserDirectoryTest {

    private static final String USERS = "/api/users";
    private static final int DIRECTORY_SIZE = 120;
    private static final int PAGE_SIZE = 7;
    /** Not a real bcrypt hash: these users never log in. */
    private static final String UNUSABLE_HASH = "$2a$10$fixturefixturefixturefixturefixturefixturefixturefix";
    private static final long NO_SUCH_USER = 999_999_999L;

    @InjectTestDatabase
    TestDatabase database;

    @InjectTestTokens
    TestTokens tokens;

    private Rows rows;
    private long callerId;
    private String callerEmail;
    private String token;

    @BeforeEach
    void setUp() {
        rows = new Rows(database);
        long existing = rows.count("SELECT count(*) FROM users");
        for (long i = existing; i < DIRECTORY_SIZE; i++) {
            rows.insertUser("Member " + i, uniqueEmail("member"), UNUSABLE_HASH);
        }
        callerEmail = uniqueEmail("caller");
        callerId = rows.insertUser("Caller", callerEmail, UNUSABLE_HASH);
        token = tokens.tokenFor(callerId, callerEmail);
    }

    @Test
    void listingPagesThroughAllUsersSeeingEachExactlyOnce() {
        List<Long> expected = rows.query("SELECT id FROM users ORDER BY id").stream()
                .map(row -> ((Number) row.get("id")).longValue()).toList();
        assertThat(expected).hasSizeGreaterThan(DIRECTORY_SIZE);

        List<Long> seen = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            var request = given().auth().oauth2(token).queryParam("limit", PAGE_SIZE);
            if (after != null) {
                request.queryParam("after", after);
            }
            Response page = request.when().get(USERS);
            assertThat(page.statusCode()).as(page.asString()).isEqualTo(200);
            List<Map<String, Object>> data = page.jsonPath().getList("data");
            assertThat(data).hasSizeLessThanOrEqualTo(PAGE_SIZE);
            data.forEach(user -> assertThat(user).containsOnlyKeys("id", "name", "subname", "email", "job"));
            data.forEach(user -> seen.add(((Number) user.get("id")).longValue()));
            after = page.jsonPath().getString("next");
            pages++;
            assertThat(pages).as("pages before next became null").isLessThanOrEqualTo(expected.size() / PAGE_SIZE + 1);
        } while (after != null);

        assertThat(seen).as("ids seen over all pages").doesNotHaveDuplicates().isEqualTo(expected);
    }

    @Test
    void defaultPageHas50UsersAndLimitGoesUpTo100() {
        Response first = given().auth().oauth2(token).when().get(USERS);
        assertThat(first.statusCode()).isEqualTo(200);
        List<Long> ids = first.jsonPath().getList("data.id", Long.class);
        assertThat(ids).hasSize(50);
        assertThat(first.jsonPath().getString("next")).isEqualTo(Long.toString(ids.get(49)));

        assertThat(given().auth().oauth2(token).queryParam("limit", 100).when().get(USERS).jsonPath().getList("data"))
                .hasSize(100);
    }

    @Test
    void lastPageHasNullNext() {
        long lastId = ((Number) rows.one("SELECT max(id) AS id FROM users").get("id")).longValue();

        Response page = given().auth().oauth2(token).queryParam("after", lastId - 1).when().get(USERS);

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.jsonPath().getList("data.id", Long.class)).containsExactly(lastId);
        assertThat(page.asString()).as("next is present and null").contains("\"next\":null");
    }

    @Test
    void listingWithoutAValidTokenIs401() {
        given().when().get(USERS)
                .then().statusCode(401).body("message", equalTo("missing, invalid, expired or revoked token"));
        given().auth().oauth2(tokens.expiredTokenFor(callerId, callerEmail)).when().get(USERS).then().statusCode(401);
        given().auth().oauth2(TestTokens.unsignedTokenFor(callerId, callerEmail)).when().get(USERS).then().statusCode(401);
    }

    @ParameterizedTest
    @CsvSource({ "limit, 0", "limit, 101", "limit, -1", "limit, abc", "limit, 1.5", "limit, 99999999999999999999",
            "after, -1", "after, abc", "after, 1e3", "after, 99999999999999999999" })
    void badLimitOrAfterIs400WithAReason(String parameter, String value) {
        Response response = given().auth().oauth2(token).queryParam(parameter, value).when().get(USERS);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(400);
        assertThat(response.jsonPath().getString("message")).startsWith(parameter + " must be");
    }

    @Test
    void meIsTheCaller() {
        Response me = given().auth().oauth2(token).when().get(USERS + "/me");

        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.jsonPath().getMap("")).containsOnlyKeys("id", "name", "subname", "email", "job")
                .containsEntry("name", "Caller").containsEntry("email", callerEmail);
        assertThat(me.jsonPath().getLong("id")).isEqualTo(callerId);
    }

    @Test
    void meOfAUserWhoIsGoneIs404() {
        given().auth().oauth2(tokens.tokenFor(NO_SUCH_USER, "gone@example.com")).when().get(USERS + "/me")
                .then().statusCode(404);
    }

    @Test
    void userByIdIsTheUserJson() {
        String email = uniqueEmail("other");
        long other = rows.insertUser("Other", email, UNUSABLE_HASH);

        Response user = given().auth().oauth2(token).when().get(USERS + "/" + other);

        assertThat(user.statusCode()).isEqualTo(200);
        assertThat(user.jsonPath().getMap("")).containsOnlyKeys("id", "name", "subname", "email", "job")
                .containsEntry("email", email);
        assertThat(user.asString()).doesNotContain("password").doesNotContain(UNUSABLE_HASH);
    }

    @ParameterizedTest
    @ValueSource(strings = { "999999999", "0", "-1", "abc", "1.5", "99999999999999999999" })
    void unknownOrMalformedIdIs404(String id) {
        Response response = given().auth().oauth2(token).when().get(USERS + "/" + id);

        assertThat(response.statusCode()).as(response.asString()).isEqualTo(404);
        assertThat(response.jsonPath().getString("message")).isEqualTo("not found");
    }

    @Test
    void meAndUserByIdWithoutATokenAre401() {
        given().when().get(USERS + "/me").then().statusCode(401);
        given().when().get(USERS + "/" + callerId).then().statusCode(401);
        given().auth().oauth2(tokens.wrongIssuerTokenFor(callerId, callerEmail)).when().get(USERS + "/me").then().statusCode(401);
    }

    @Test
    void tokenWhoseSubjectIsNotAUserIdIs401() {
        String odd = tokens.sign(tokens.claims(callerId, callerEmail).subject("not-a-number"));

        given().auth().oauth2(odd).when().get(USERS + "/me").then().statusCode(401);
    }
}
