package io.companychat.auth.client;

import org.eclipse.microprofile.faulttolerance.ExecutionContext;
import org.eclipse.microprofile.faulttolerance.FallbackHandler;

import io.companychat.common.error.ApiException;
import io.quarkus.logging.Log;
import io.smallrye.mutiny.Uni;

/** Whatever went wrong with user-service (down, slow, failing, circuit open) becomes a 503 with Retry-After. */
public class UserServiceUnavailableHandler implements FallbackHandler<Uni<User>> {

    static final int RETRY_AFTER_SECONDS = 5;

    @Override
    public Uni<User> handle(ExecutionContext context) {
        Throwable failure = context.getFailure();
        Log.warnf("user-service unavailable for a login: %s", failure.toString());
        return Uni.createFrom().failure(ApiException.unavailable("user-service unavailable", RETRY_AFTER_SECONDS, failure));
    }
}
