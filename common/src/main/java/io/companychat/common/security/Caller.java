package io.companychat.common.security;

import jakarta.enterprise.context.RequestScoped;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.companychat.common.api.Ids;
import io.quarkus.security.AuthenticationFailedException;

/**
 * Who is calling: the user id of the request's token, read once per request. A token whose subject is not a
 * user id is no valid token here (401).
 */
@RequestScoped
public class Caller {

    private final JsonWebToken token;
    private long id;

    public Caller(JsonWebToken token) {
        this.token = token;
    }

    public long id() {
        if (id == 0) {
            id = Ids.parse(token.getSubject())
                    .orElseThrow(() -> new AuthenticationFailedException("token subject is not a user id"));
        }
        return id;
    }
}
