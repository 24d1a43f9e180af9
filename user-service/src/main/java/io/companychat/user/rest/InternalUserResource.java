package io.companychat.user.rest;

import static io.companychat.common.error.ValidationMessages.BLANK;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;

import org.jboss.resteasy.reactive.RestPath;

import io.companychat.common.api.Ids;
import io.companychat.common.error.ApiException;
import io.companychat.user.api.CredentialsRequest;
import io.companychat.user.api.UserView;
import io.companychat.user.service.UserService;
import io.smallrye.mutiny.Uni;

/**
 * Routes for the other services only: common's ServiceCredentialFilter lets a request under
 * {@code /internal/} through only with the service credential, and the gateway never routes here.
 */
@Path("/internal")
public class InternalUserResource {

    private final UserService users;

    public InternalUserResource(UserService users) {
        this.users = users;
    }

    /** auth-service's login check. */
    @POST
    @Path("/credentials")
    public Uni<UserView> checkCredentials(@Valid @NotNull(message = BLANK) CredentialsRequest body) {
        return users.checkCredentials(body.email(), body.password()).map(user -> {
            if (user == null) {
                throw ApiException.invalidCredentials();
            }
            return user;
        });
    }

    /** chat-service's check that a recipient exists. */
    @GET
    @Path("/users/{id}")
    public Uni<UserView> byId(@RestPath String id) {
        return users.find(Ids.parse(id).orElseThrow(ApiException::notFound)).map(user -> {
            if (user == null) {
                throw ApiException.notFound();
            }
            return user;
        });
    }
}
