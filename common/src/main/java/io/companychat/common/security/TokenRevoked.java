package io.companychat.common.security;

/** Fired (asynchronously) when this service learns that a token was revoked, e.g. to close its sockets. */
public record TokenRevoked(String jti) {
}
