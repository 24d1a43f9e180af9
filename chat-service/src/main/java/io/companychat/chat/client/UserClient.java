package io.companychat.chat.client;

import java.time.temporal.ChronoUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.WebApplicationException;

import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Fallback;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.rest.client.inject.RestClient;

import io.companychat.chat.config.ChatConfig;
import io.companychat.common.error.ApiException;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;

/**
 * Asks user-service about users. Bounded in time, retried on connection failures (a GET is
 * safe to repeat), and behind a circuit breaker so that a dead user-service costs callers
 * nothing but a quick 503.
 */
@ApplicationScoped
public class UserClient {

    private final UserRestClient users;
    private final ChatConfig config;

    public UserClient(@RestClient UserRestClient users, ChatConfig config) {
        this.users = users;
        this.config = config;
    }

    /** Whether user-service knows the user; fails with a 503 {@link ApiException} when it cannot tell. */
    @Timeout(value = 2, unit = ChronoUnit.SECONDS)
    @Retry(maxRetries = 2, delay = 100, jitter = 50, retryOn = ProcessingException.class)
    @CircuitBreaker(requestVolumeThreshold = 20, failureRatio = 0.5, delay = 5, delayUnit = ChronoUnit.SECONDS)
    @Fallback(fallbackMethod = "unavailable")
    public Uni<Boolean> exists(long userId) {
        return users.find(userId)
                .replaceWith(Boolean.TRUE)
                .onFailure(UserClient::isNotFound).recoverWithItem(Boolean.FALSE);
    }

    Uni<Boolean> unavailable(long userId, Throwable failure) {
        Log.warnf("user-service could not say whether user %d exists: %s", userId, failure.toString());
        return Uni.createFrom().failure(ApiException.unavailable("user-service unavailable",
                config.userServiceRetryAfterSeconds(), failure));
    }

    private static boolean isNotFound(Throwable failure) {
        return failure instanceof WebApplicationException e && e.getResponse().getStatus() == 404;
    }
}
