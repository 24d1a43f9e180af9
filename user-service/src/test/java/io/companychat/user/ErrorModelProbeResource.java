package io.companychat.user;

import static io.companychat.common.error.ValidationMessages.BLANK;
import static io.companychat.common.error.ValidationMessages.INVALID_FORMAT;
import static io.companychat.common.error.ValidationMessages.TAKEN;
import static io.companychat.common.error.ValidationMessages.TOO_LONG;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.SecurityContext;

import io.quarkus.security.Authenticated;

import io.companychat.common.error.FieldValidationException;

/** A test-only endpoint that exercises the shared error model of common through real HTTP. */
@Path("/test/error-model")
public class ErrorModelProbeResource {

    public record Person(
            @NotBlank(message = BLANK) @Size(max = 10, message = TOO_LONG) String name,
            @Pattern(regexp = "\\S+@\\S+\\.\\S+", message = INVALID_FORMAT) String emailAddress,
            Integer age) {
    }

    public record Envelope(@Valid @NotNull(message = BLANK) Person person) {
    }

    @POST
    public Envelope echo(@Valid @NotNull(message = BLANK) Envelope envelope) {
        return envelope;
    }

    @POST
    @Path("/taken")
    public Envelope taken(Envelope envelope) {
        throw FieldValidationException.of("email_address", TAKEN);
    }

    @GET
    @Path("/caller")
    @Authenticated
    public String caller(@Context SecurityContext context) {
        return context.getUserPrincipal().getName();
    }

    @GET
    @Path("/bug")
    public String bug() {
        throw new IllegalStateException("a bug with a secret inside: hunter2");
    }
}
