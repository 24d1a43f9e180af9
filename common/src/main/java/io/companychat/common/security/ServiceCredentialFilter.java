package io.companychat.common.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.companychat.common.error.ErrorMessage;

/**
 * Routes under {@code /internal/} are for the other services only: they must present the shared
 * service credential in {@value #HEADER}. The gateway never routes them; this is the second lock.
 *
 * <p>Rotation without downtime: {@value #ACCEPTED_CONFIG_KEY} lists further tokens that are
 * accepted but never sent. Roll out the new token there first, then make it
 * {@value #CONFIG_KEY} with the old one accepted, then drop the old one.
 */
public class ServiceCredentialFilter {

    public static final String HEADER = "X-Service-Token";
    public static final String CONFIG_KEY = "internal.service-token";
    public static final String ACCEPTED_CONFIG_KEY = "internal.accepted-service-tokens";
    static final String INTERNAL_PREFIX = "/internal/";

    private final List<byte[]> accepted;

    public ServiceCredentialFilter(@ConfigProperty(name = CONFIG_KEY) Optional<String> serviceToken,
            @ConfigProperty(name = ACCEPTED_CONFIG_KEY) Optional<List<String>> alsoAccepted) {
        this.accepted = Stream.concat(serviceToken.stream(), alsoAccepted.orElse(List.of()).stream())
                .map(String::trim).filter(t -> !t.isEmpty()).map(t -> t.getBytes(StandardCharsets.UTF_8)).toList();
    }

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> requireServiceCredential(ContainerRequestContext request) {
        if (!request.getUriInfo().getPath().startsWith(INTERNAL_PREFIX)) {
            return Optional.empty();
        }
        String presented = request.getHeaderString(HEADER);
        if (presented == null || !isAccepted(presented.getBytes(StandardCharsets.UTF_8))) {
            return Optional.of(Response.status(401)
                    .type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(new ErrorMessage("service credential required"))
                    .build());
        }
        return Optional.empty();
    }

    /** Compares with every accepted token, each in constant time. */
    private boolean isAccepted(byte[] presented) {
        boolean found = false;
        for (byte[] token : accepted) {
            found |= MessageDigest.isEqual(token, presented);
        }
        return found;
    }
}
