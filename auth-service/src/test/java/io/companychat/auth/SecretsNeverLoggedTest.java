package io.companychat.auth;

import static io.companychat.auth.support.AuthApi.login;
import static io.companychat.auth.support.AuthApi.logout;
import static io.companychat.auth.support.AuthApi.uniqueEmail;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import jakarta.inject.Inject;

import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.companychat.auth.client.UserClient;
import io.companychat.auth.support.TestKeysResource;
import io.companychat.auth.support.UserServiceStub;
import io.companychat.auth.support.UserServiceStub.StubUser;
import io.companychat.auth.support.UserServiceStubResource;
import io.companychat.common.testing.PostgresTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;

/** Whatever happens to a login, neither the password nor the token reaches the log (debug level included). */
@QuarkusTest
@WithTestResource(PostgresTestResource.class)
@WithTestResource(UserServiceStubResource.class)
@WithTestResource(TestKeysResource.class)
class SecretsNeverLoggedTest {

    private static final String PASSWORD = "Secret-Password-Do-Not-Log-91";
    private static final String WRONG_PASSWORD = "Wrong-Password-Do-Not-Log-92";

    UserServiceStub userService;

    @Inject
    CircuitBreakerMaintenance circuitBreakers;

    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String message = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
            logged.add(message + (record.getThrown() == null ? "" : " " + stackOf(record.getThrown())));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLog() {
        capture.setLevel(Level.ALL);
        Logger.getLogger("").addHandler(capture);
    }

    @AfterEach
    void stopCapturing() {
        Logger.getLogger("").removeHandler(capture);
        userService.reset();
        circuitBreakers.reset(UserClient.CIRCUIT_BREAKER);
    }

    @Test
    void passwordsAndTokensStayOutOfTheLog() {
        StubUser ada = userService.register(uniqueEmail("secret"), PASSWORD);
        String token = login(ada.email(), PASSWORD).then().statusCode(200).extract().path("data.token");
        logout(token).then().statusCode(204);
        logout(token).then().statusCode(401);
        login(ada.email(), WRONG_PASSWORD).then().statusCode(401);
        for (int i = 0; i < 5; i++) {
            login(ada.email(), WRONG_PASSWORD);
        }
        login(ada.email(), PASSWORD).then().statusCode(429);
        userService.fail();
        login(uniqueEmail("other"), PASSWORD).then().statusCode(503);
        userService.hang();
        login(uniqueEmail("slow"), PASSWORD).then().statusCode(503);

        assertThat(logged).as("log records captured").isNotEmpty();
        assertThat(logged).noneMatch(line -> line.contains(PASSWORD) || line.contains(WRONG_PASSWORD));
        assertThat(logged).noneMatch(line -> line.contains(token) || line.contains(token.split("\\.")[2]));
    }

    private static String stackOf(Throwable thrown) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            out.append(t).append(' ');
            if (t.getCause() == t) {
                break;
            }
        }
        return out.toString();
    }
}
