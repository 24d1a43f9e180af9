package io.companychat.common.security;

import java.util.Set;

/** What a chat token carries (API.md, Sessions): issued by auth-service, verified by every service. */
public final class TokenClaims {

    public static final String ISSUER = "company-chat";
    public static final Set<String> GROUPS = Set.of("user");
    public static final String USER_GROUP = "user";

    private TokenClaims() {
    }
}
