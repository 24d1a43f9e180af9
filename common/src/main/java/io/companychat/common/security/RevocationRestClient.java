package io.companychat.common.security;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;

import org.eclipse.microprofile.rest.client.annotation.ClientHeaderParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

import io.smallrye.mutiny.Uni;

/** auth-service's list of revocations, for services other than auth-service. */
@RegisterRestClient(configKey = "auth-service", baseUri = "http://localhost:8082")
@Path("/internal/revoked-tokens")
@ClientHeaderParam(name = ServiceCredentialFilter.HEADER, value = "${" + ServiceCredentialFilter.CONFIG_KEY + "}")
public interface RevocationRestClient {

    @GET
    Uni<RevocationList> list();
}
