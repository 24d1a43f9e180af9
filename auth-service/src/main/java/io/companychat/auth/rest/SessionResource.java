package io.companychat.auth.rest;

import jakarta.validation.Valid;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.resteasy.reactive.RestResponse;

import io.companychat.auth.service.LoginService;
import io.companychat.auth.service.RevocationService;
import io.companychat.common.api.ClientAddress;
import io.companychat.common.error.FieldValidationException;
import io.companychat.common.error.ValidationMessages;
import io.quarkus.security.Authenticated;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;

/** Sessions (API.md): log in for a token, log out to revoke it. */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class SessionResource {

    private final LoginService logins;
    private final RevocationService revocations;
    private final JsonWebToken caller;

    public SessionResource(LoginService logins, RevocationService revocations, JsonWebToken caller) {
        this.logins = logins;
        this.revocations = revocations;
        this.caller = caller;
    }

    /** 200 with the user, the token and its expiry, and the token again in the {@code authorization} header. */
    @POST
    @Path("/login")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<RestResponse<LoginResponse>> login(@Valid LoginRequest request, HttpServerRequest http) {
        if (request == null) {
            throw FieldValidationException.of("creds", ValidationMessages.BLANK);
        }
        return logins.login(request.creds().email(), request.creds().password(), ClientAddress.of(http))
                .map(session -> RestResponse.ResponseBuilder
                        .ok(new LoginResponse(new LoginResponse.Data(session.user(), session.token().token(),
                                session.token().expiresAt())))
                        .header("authorization", "Bearer " + session.token().token())
                        .header(HttpHeaders.CACHE_CONTROL, "no-store")
                        .build());
    }

    /** 204; the token is refused everywhere from now on. */
    @POST
    @Path("/logout")
    @Authenticated
    public Uni<Void> logout() {
        return revocations.revoke(caller);
    }
}
