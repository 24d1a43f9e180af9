package io.companychat.auth.rest;

import java.util.List;
import java.util.Map;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;

import org.jboss.resteasy.reactive.RestResponse;

import io.companychat.auth.key.SigningKeys;
import io.smallrye.common.annotation.NonBlocking;

/** The public keys that verify tokens: the current signing key and the previous ones whose tokens may still live. */
@Path("/.well-known/jwks.json")
public class JwksResource {

    /** Verifiers refetch at least this often; a token with an unknown key id makes them refetch at once anyway. */
    static final String CACHE_CONTROL = "public, max-age=300";

    private final SigningKeys keys;

    public JwksResource(SigningKeys keys) {
        this.keys = keys;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    public RestResponse<Jwks> jwks() {
        return RestResponse.ResponseBuilder.ok(new Jwks(keys.jwks())).header(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL).build();
    }

    public record Jwks(List<Map<String, Object>> keys) {
    }
}
