package io.companychat.common.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.companychat.common.error.ErrorMessage;

/**
 * Routes under {@code /internal/} are for the other services only: they must present the shared
 * service credential in {@value #HEADER}. The gateway never routes them; this is the second lock.
 */
public class ServiceCredentialFilter {

    public static final String HEADER = "X-Service-Token";
    public static final String CONFIG_KEY = "internal.service-token";
    static final String INTERNAL_PREFIX = "/internal/";

    private final byte[] expected;

    public ServiceCredentialFilter(@ConfigProperty(name = CONFIG_KEY) Optional<String> serviceToken) {
        this.expected = serviceToken.filter(t -> !t.isBlank()).map(t -> t.getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> requireServiceCredential(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith(INTERNAL_PREFIX)) {
            return Optional.empty();
        }
        String presented = request.getHeaderString(HEADER);
        if (expected == null || presented == null
                || !MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
            return Optional.of(Response.status(401)
                    .type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(new ErrorMessage("service credential required"))
                    .build());
        }
        return Optional.empty();
    }
}
