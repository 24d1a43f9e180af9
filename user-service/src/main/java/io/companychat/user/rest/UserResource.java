package io.companychat.user.rest;

import static io.companychat.common.error.ValidationMessages.BLANK;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;

import org.jboss.resteasy.reactive.ResponseStatus;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

import io.companychat.common.api.ClientAddress;
import io.companychat.common.api.Ids;
import io.companychat.common.error.ApiException;
import io.companychat.common.security.Caller;
import io.companychat.user.api.PageRequest;
import io.companychat.user.api.PasswordChangeRequest;
import io.companychat.user.api.RegistrationRequest;
import io.companychat.user.api.UserPage;
import io.companychat.user.api.UserView;
import io.companychat.user.service.UserService;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;

/** The users routes of API.md. */
@Path("/api/users")
public class UserResource {

    private final UserService users;
    private final Caller caller;

    public UserResource(UserService users, Caller caller) {
        this.users = users;
        this.caller = caller;
    }

    @POST
    @ResponseStatus(201)
    public Uni<UserView> register(@Valid @NotNull(message = BLANK) RegistrationRequest body, HttpServerRequest http) {
        return users.register(body.user(), ClientAddress.of(http));
    }

    @GET
    @Authenticated
    public Uni<UserPage> list(@RestQuery String limit, @RestQuery String after) {
        return users.list(PageRequest.parse(limit, after));
    }

    @GET
    @Path("/me")
    @Authenticated
    public Uni<UserView> me() {
        return users.find(caller.id()).map(UserResource::orNotFound);
    }

    @GET
    @Path("/{id}")
    @Authenticated
    public Uni<UserView> byId(@RestPath String id) {
        return users.find(Ids.parse(id).orElseThrow(ApiException::notFound)).map(UserResource::orNotFound);
    }

    @PUT
    @Path("/me/password")
    @Authenticated
    public Uni<Void> changePassword(@Valid @NotNull(message = BLANK) PasswordChangeRequest body) {
        return users.changePassword(caller.id(), body).map(changed -> {
            if (!changed) {
                throw ApiException.unauthorized("invalid password");
            }
            return null;
        });
    }

    private static UserView orNotFound(UserView user) {
        if (user == null) {
            throw ApiException.notFound();
        }
        return user;
    }
}
