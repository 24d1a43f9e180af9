package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.login;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.companychat.auth.client.UserClient;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;

/** user-service down, slow, failing or misconfigured: logins answer 503 with Retry-After, fast, and count nothing. */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class UserServiceAvailabilityTest {

    private static final String PASSWORD = "Emailed-password-7Qx9";
    private static final Duration PROMISED = Duration.ofSeconds(2);
    private static final Duration TIMEOUT_ANSWER = Duration.ofMillis(2500);
    private static final String UNAVAILABLE = "{\"message\":\"user-service unavailable\"}";

    UserServiceStub userService;

    @Inject
    CircuitBreakerMaintenance circuitBreakers;

    @AfterEach
    void bringUserServiceBack() {
        userService.reset();
        circuitBreakers.reset(UserClient.CIRCUIT_BREAKER);
    }

    @Test
    void loginWhileUserServiceIsStoppedIs503WithRetryAfterWithinTwoSeconds() {
        StubUser ada = userService.register(uniqueEmail("stopped"), PASSWORD);
        userService.stop();

        long start = System.nanoTime();
        Response response = login(ada.email(), PASSWORD);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertUnavailable(response);
        assertThat(took).as("time to the 503").isLessThan(PROMISED);
    }

    @Test
    void loginWhileUserServiceHangsIs503AfterTheTimeoutWithoutRetrying() {
        StubUser ada = userService.register(uniqueEmail("hanging"), PASSWORD);
        userService.hang();

        long start = System.nanoTime();
        Response response = login(ada.email(), PASSWORD);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertUnavailable(response);
        assertThat(took).as("time to the 503").isBetween(Duration.ofMillis(1400), TIMEOUT_ANSWER);
        assertThat(userService.callsFor(ada.email())).as("a request that may be hashing is not sent again").isEqualTo(1);
    }

    @Test
    void userServiceErrorIs503() {
        StubUser ada = userService.register(uniqueEmail("failing"), PASSWORD);
        userService.fail();

        assertUnavailable(login(ada.email(), PASSWORD));
    }

    @Test
    void userServiceRefusingOurServiceCredentialIs503NotABadPassword() {
        StubUser ada = userService.register(uniqueEmail("credential"), PASSWORD);
        userService.acceptServiceToken("another-secret");

        assertUnavailable(login(ada.email(), PASSWORD));
    }

    @Test
    void undecidedLoginsAreNotCountedAsFailures() {
        StubUser ada = userService.register(uniqueEmail("undecided"), PASSWORD);
        userService.fail();
        for (int i = 0; i < 6; i++) {
            assertUnavailable(login(ada.email(), "whatever-" + i));
            circuitBreakers.reset(UserClient.CIRCUIT_BREAKER);
        }

        userService.reset();

        login(ada.email(), PASSWORD).then().statusCode(200);
    }

    @Test
    void circuitOpensAfterRepeatedFailuresAndFailsFastWithoutCallingUserService() {
        StubUser ada = userService.register(uniqueEmail("circuit"), PASSWORD);
        userService.fail();
        for (int i = 0; i < 10; i++) {
            assertUnavailable(login(ada.email(), PASSWORD));
        }
        int callsWhileFailing = userService.callsFor(ada.email());
        userService.reset();

        assertUnavailable(login(ada.email(), PASSWORD));
        assertThat(userService.callsFor(ada.email())).as("calls while the circuit is open").isEqualTo(callsWhileFailing);

        circuitBreakers.reset(UserClient.CIRCUIT_BREAKER);
        login(ada.email(), PASSWORD).then().statusCode(200);
    }

    private static void assertUnavailable(Response response) {
        assertThat(response.statusCode()).as("status, body %s", response.asString()).isEqualTo(503);
        assertThat(response.asString()).isEqualTo(UNAVAILABLE);
        assertThat(response.header("Retry-After")).isEqualTo("5");
    }
}
