package io.companychat.common.security;

import java.time.Duration;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.rest.client.inject.RestClient;

import io.quarkus.arc.DefaultBean;
import io.smallrye.mutiny.Uni;

/** Loads the revocations from auth-service over REST. auth-service itself replaces this bean. */
@DefaultBean
@ApplicationScoped
public class AuthServiceRevocationSnapshot implements RevocationSnapshot {

    static final Duration TIMEOUT = Duration.ofSeconds(3);

    private final RevocationRestClient client;

    public AuthServiceRevocationSnapshot(@RestClient RevocationRestClient client) {
        this.client = client;
    }

    @Override
    public Uni<List<Revocation>> load() {
        return client.list().ifNoItem().after(TIMEOUT).fail().map(RevocationList::data);
    }
}
