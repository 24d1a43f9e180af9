package io.companychat.chat.client;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.rest.client.annotation.ClientHeaderParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

import io.companychat.common.security.ServiceCredentialFilter;
import io.smallrye.mutiny.Uni;

/** user-service's internal routes, which want the shared service credential. Used through {@link UserClient}. */
@RegisterRestClient(configKey = "user-service")
@Path("/internal/users")
@Produces(MediaType.APPLICATION_JSON)
@ClientHeaderParam(name = ServiceCredentialFilter.HEADER, value = "${" + ServiceCredentialFilter.CONFIG_KEY + "}")
public interface UserRestClient {

    /** The user, or a {@code WebApplicationException} with 404 when there is none. */
    @GET
    @Path("/{id}")
    Uni<UserSummary> find(@PathParam("id") long id);
}
