package io.companychat.user;

import static io.companychat.user.support.Fixtures.registration;
import static io.companychat.user.support.Fixtures.uniqueEmail;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.common.testing.InjectTestDatabase;
import io.companychat.common.testing.PostgresTestResource;
import io.companychat.common.testing.TestDatabase;
import io.companychat.common.testing.TestTokensResource;
import io.companychat.user.support.LimitsAndLocalRun;
import io.companychat.user.support.Rows;
import io.quarkus.elytron.security.common.BcryptUtil;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/**
 * API.md, Limits, for registration: registrations per client address per hour (the address the gateway forwards,
 * shared by all replicas through PostgreSQL), the email domains that may register, the email checked before any
 * bcrypt work, and bcrypt on a bounded pool where registrations are refused with 503 when too many wait while
 * logins keep their turn.
 */
@QuarkusTest
@TestProfile(LimitsAndLocalRun.class)
@WithTestResource(PostgresTestResource.class)
class RegistrationLimitsTest {

    private static final String USERS = "/api/users";
    private static final int LIMIT = LimitsAndLocalRun.REGISTRATION_LIMIT;
    private static final Duration WINDOW = Duration.ofHours(1);
    private static final int WAITING_REGISTRATIONS = LimitsAndLocalRun.WAITING_REGISTRATIONS;
    private static final int FLOODERS = 12;
    private static final int LOGINS = 7;
    private static final String PASSWORD = "correct-horse-battery";
    private static final Pattern HASH_COUNT = Pattern.compile("(?m)^users_registration_hash_seconds_count(?:\\{[^}]*})? ([0-9.E]+)$");
    private static final AtomicInteger ADDRESSES = new AtomicInteger();

    @InjectTestDatabase
    TestDatabase database;

    private Rows rows;

    @BeforeEach
    void setUp() {
        rows = new Rows(database);
    }

    @Test
    void registrationsBeyondTheLimitOfAClientAddressAre429WithRetryAfterAndStoreNothing() {
        String client = nextClientAddress();
        String repeated = uniqueEmail("limit");
        register(client, repeated).then().statusCode(201);
        register(client, uniqueEmail("limit")).then().statusCode(201);
        register(client, repeated.toUpperCase()).then().statusCode(422);
        List<Long> before = rows.footprint();

        String refusedEmail = uniqueEmail("limit");
        Response refused = register(client, refusedEmail);

        assertThat(refused.statusCode()).as("registration %d from %s: %s", LIMIT + 1, client, refused.asString()).isEqualTo(429);
        assertThat(refused.jsonPath().getMap("")).containsOnlyKeys("message");
        assertThat(Long.parseLong(refused.header("Retry-After"))).as("Retry-After: until the first one leaves the hour")
                .isBetween(WINDOW.toSeconds() - 120, WINDOW.toSeconds());
        assertThat(rows.footprint()).as("users and outbox rows after the refusal").isEqualTo(before);
        assertThat(rows.count("SELECT count(*) FROM users WHERE email = ?", refusedEmail)).isZero();

        register(nextClientAddress(), uniqueEmail("limit")).then().statusCode(201);
    }

    @Test
    void emailAlreadyTakenIsRefusedBeforeAnyHashing() {
        String email = uniqueEmail("taken");
        register(nextClientAddress(), email).then().statusCode(201);
        double hashesBefore = hashCount();

        Response duplicate = register(nextClientAddress(), email.toUpperCase());

        assertThat(duplicate.statusCode()).isEqualTo(422);
        assertThat(duplicate.jsonPath().getMap("errors")).isEqualTo(Map.of("email", List.of("has already been taken")));
        assertThat(hashCount()).as("bcrypt hashes of registrations after a duplicate").isEqualTo(hashesBefore);
    }

    @Test
    void onlyTheConfiguredDomainsRegister() {
        List<Long> before = rows.footprint();
        for (String email : List.of("someone@elsewhere.org", "someone@mail.example.com", "someone@example.com.evil.org")) {
            Response refused = register(nextClientAddress(), email);
            assertThat(refused.statusCode()).as(email).isEqualTo(422);
            assertThat(refused.jsonPath().getMap("errors")).as(email).isEqualTo(Map.of("email", List.of("is invalid")));
        }
        assertThat(rows.footprint()).isEqualTo(before);

        register(nextClientAddress(), "Someone-" + ADDRESSES.incrementAndGet() + "@COMPANY.test").then().statusCode(201);
        register(nextClientAddress(), uniqueEmail("allowed")).then().statusCode(201);
    }

    @Test
    void aFloodOfRegistrationsIsRefusedWith503WhileLoginsKeepTheirTurn() throws Exception {
        String loginEmail = uniqueEmail("login");
        rows.insertUser("Login", loginEmail, BcryptUtil.bcryptHash(PASSWORD, 10));
        record Answer(String client, String email, int status, String retryAfter, long at) {
        }
        ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
        AtomicBoolean flooding = new AtomicBoolean(true);
        ExecutorService flooders = Executors.newFixedThreadPool(FLOODERS);
        List<Long> registrationsDuringLogin = new ArrayList<>();
        try {
            for (int i = 0; i < FLOODERS; i++) {
                flooders.submit(() -> {
                    while (flooding.get()) {
                        String client = nextClientAddress();
                        String email = uniqueEmail("flood");
                        Response response = register(client, email);
                        answers.add(new Answer(client, email, response.statusCode(), response.header("Retry-After"), System.nanoTime()));
                    }
                });
            }
            await("a registration refused with 503 while " + WAITING_REGISTRATIONS + " registrations wait").atMost(Duration.ofSeconds(60))
                    .until(() -> answers.stream().anyMatch(answer -> answer.status() == 503));

            for (int i = 0; i < LOGINS; i++) {
                long sent = System.nanoTime();
                Response login = given().header("X-Service-Token", TestTokensResource.SERVICE_TOKEN).contentType(ContentType.JSON)
                        .body(Map.of("email", loginEmail, "password", PASSWORD)).when().post("/internal/credentials");
                long answered = System.nanoTime();
                assertThat(login.statusCode()).as("login %d during the flood: %s", i, login.asString()).isEqualTo(200);
                registrationsDuringLogin.add(answers.stream()
                        .filter(answer -> answer.status() == 201 && answer.at() > sent && answer.at() < answered).count());
            }
        } finally {
            flooding.set(false);
            flooders.shutdown();
            assertThat(flooders.awaitTermination(60, TimeUnit.SECONDS)).as("the flood stops").isTrue();
        }

        // One hash was running when the login came; the waiting registrations (up to 6) come after it.
        List<Long> sorted = new ArrayList<>(registrationsDuringLogin);
        Collections.sort(sorted);
        assertThat(sorted.get(sorted.size() / 2)).as("registrations completed while a login waited (median of %s)", registrationsDuringLogin)
                .isLessThanOrEqualTo(2);

        List<Answer> unavailable = answers.stream().filter(answer -> answer.status() == 503).toList();
        assertThat(answers).extracting(Answer::status).as("registration statuses during the flood").containsOnly(201, 503);
        assertThat(unavailable).allSatisfy(answer -> {
            assertThat(answer.retryAfter()).as("Retry-After of a 503").isNotNull();
            assertThat(rows.count("SELECT count(*) FROM users WHERE email = ?", answer.email())).as("user of a 503").isZero();
        });
        // A registration refused as busy does not count towards its address's limit.
        String busyClient = unavailable.get(0).client();
        for (int i = 0; i < LIMIT; i++) {
            register(busyClient, uniqueEmail("after-busy")).then().statusCode(201);
        }
    }

    /** Through a trusted proxy (this test, from loopback, as the gateway): the client is the forwarded address. */
    private static Response register(String clientAddress, String email) {
        return given().header("X-Forwarded-For", clientAddress).contentType(ContentType.JSON).body(registration(email))
                .when().post(USERS);
    }

    private static String nextClientAddress() {
        int n = ADDRESSES.incrementAndGet();
        return "198.18." + (n / 250) + "." + (1 + n % 250);
    }

    private static double hashCount() {
        String metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
        Matcher matcher = HASH_COUNT.matcher(metrics);
        assertThat(matcher.find()).as("users_registration_hash_seconds_count in the metrics").isTrue();
        return Double.parseDouble(matcher.group(1));
    }
}
