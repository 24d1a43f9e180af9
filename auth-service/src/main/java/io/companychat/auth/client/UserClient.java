package io.companychat.auth.client;

import java.net.ConnectException;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.faulttolerance.CircuitBreaker;
import org.eclipse.microprofile.faulttolerance.Fallback;
import org.eclipse.microprofile.faulttolerance.Retry;
import org.eclipse.microprofile.faulttolerance.Timeout;
import org.eclipse.microprofile.rest.client.inject.RestClient;

import io.companychat.common.error.ApiException;
import io.smallrye.faulttolerance.api.CircuitBreakerName;
import io.smallrye.mutiny.Uni;

/**
 * Checks credentials with user-service without ever hanging a login: each attempt is cut off after 1.5 s, a
 * refused connection is retried (the request never left), a timeout is not (user-service may be hashing
 * already), and after repeated failures the circuit opens so that logins fail fast for a while. Every way of
 * failing ends as a 503 with Retry-After ({@link UserServiceUnavailableHandler}); a credential refusal is a
 * normal answer and neither trips the circuit nor is retried.
 * <p>
 * Each value can be tuned without a rebuild, e.g.
 * {@code io.companychat.auth.client.UserClient/verify/Timeout/value=2000}.
 */
@ApplicationScoped
public class UserClient {

    public static final String CIRCUIT_BREAKER = "user-service";

    private final UserRestClient restClient;

    public UserClient(@RestClient UserRestClient restClient) {
        this.restClient = restClient;
    }

    @Timeout(1500)
    @Retry(maxRetries = 2, delay = 50, jitter = 25, retryOn = UserServiceUnreachableException.class)
    @CircuitBreaker(requestVolumeThreshold = 10, failureRatio = 0.5, delay = 5000, successThreshold = 2,
            skipOn = ApiException.class)
    @CircuitBreakerName(CIRCUIT_BREAKER)
    @Fallback(value = UserServiceUnavailableHandler.class, skipOn = ApiException.class)
    public Uni<User> verify(String email, String password) {
        return restClient.verify(new Credentials(email, password))
                .onFailure(UserClient::neverSent).transform(UserServiceUnreachableException::new);
    }

    private static boolean neverSent(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
