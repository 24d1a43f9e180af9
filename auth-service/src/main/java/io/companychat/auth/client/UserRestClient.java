package io.companychat.auth.client;

import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.rest.client.annotation.ClientHeaderParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

import io.companychat.common.error.ApiException;
import io.companychat.common.error.ErrorMessage;
import io.companychat.common.security.ServiceCredentialFilter;
import io.quarkus.rest.client.reactive.ClientExceptionMapper;
import io.smallrye.mutiny.Uni;

/** user-service's internal credential check. Used through {@link UserClient}, which adds the fault tolerance. */
@RegisterRestClient(configKey = "user-service")
@Path("/internal/credentials")
@ClientHeaderParam(name = ServiceCredentialFilter.HEADER, value = "${internal.service-token}")
public interface UserRestClient {

    /** The user whose credentials these are; fails with a 401 {@link ApiException} on bad credentials. */
    @POST
    Uni<User> verify(Credentials credentials);

    /**
     * user-service answers 401 both for bad credentials and for a service credential it does not accept; only
     * the first is the caller's fault. Everything else that is not a 200 means user-service is not usable.
     */
    @ClientExceptionMapper
    static RuntimeException toException(Response response) {
        if (response.getStatus() == 401 && isInvalidCredentials(response)) {
            return ApiException.invalidCredentials();
        }
        return new UserServiceFailureException(response.getStatus());
    }

    private static boolean isInvalidCredentials(Response response) {
        try {
            ErrorMessage body = response.readEntity(ErrorMessage.class);
            return body != null && ApiException.INVALID_CREDENTIALS.equals(body.message());
        } catch (RuntimeException e) {
            return false;
        }
    }
}
