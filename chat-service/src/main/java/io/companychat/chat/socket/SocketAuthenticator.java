package io.companychat.chat.socket;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.companychat.chat.metrics.ChatMetrics;
import io.companychat.common.api.Ids;
import io.companychat.common.http.UpgradedRequests;
import io.companychat.common.security.RevokedTokens;
import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.quarkus.websockets.next.UserData.TypedKey;
import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.auth.principal.ParseException;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.mutiny.core.Vertx;

/**
 * Authenticates the chat socket at its upgrade, as Phoenix's {@code connect/3} did: the token
 * comes in {@code ?token=} (what Phoenix clients send), in {@code Authorization: Bearer}, or as phoenix.js 1.8's
 * {@code authToken} (a {@code Sec-WebSocket-Protocol}, see {@link #tokenOf}). A
 * missing, forged, expired or revoked token refuses the upgrade with 403; a user who already holds
 * {@code chat.socket.max-per-user} sockets here gets 429; a replica that is stopping refuses it with 503. The token
 * is never logged (it rides in the query string).
 */
@ApplicationScoped
public class SocketAuthenticator implements HttpUpgradeCheck {

    static final TypedKey<Long> USER_ID = TypedKey.forLong("chat.user-id");
    static final TypedKey<String> TOKEN_ID = TypedKey.forString("chat.token-id");
    static final TypedKey<Long> EXPIRES_AT = TypedKey.forLong("chat.token-expires-at");
    static final TypedKey<HttpConnection> TRANSPORT = new TypedKey<>("chat.transport");
    private static final String BEARER = "Bearer ";
    /** The subprotocol phoenix.js 1.8 offers for its {@code authToken}, followed by the token in base64. */
    static final String AUTH_TOKEN_PROTOCOL = "base64url.bearer.phx.";

    private final JWTParser parser;
    private final RevokedTokens revokedTokens;
    private final Vertx vertx;
    private final SocketSweeper sweeper;
    private final SocketSessions sessions;
    private final ChatMetrics metrics;
    private final UpgradedRequests upgradedRequests;

    public SocketAuthenticator(JWTParser parser, RevokedTokens revokedTokens, Vertx vertx, SocketSweeper sweeper,
            SocketSessions sessions, ChatMetrics metrics, UpgradedRequests upgradedRequests) {
        this.metrics = metrics;
        this.upgradedRequests = upgradedRequests;
        this.parser = parser;
        this.revokedTokens = revokedTokens;
        this.vertx = vertx;
        this.sweeper = sweeper;
        this.sessions = sessions;
    }

    @Override
    public boolean appliesTo(String endpointId) {
        return ChatSocket.ENDPOINT_ID.equals(endpointId);
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        if (sweeper.stopping()) {
            metrics.upgradeRefused(ChatMetrics.STOPPING);
            return CheckResult.rejectUpgrade(503);
        }
        String token = tokenOf(context.httpRequest());
        if (token == null) {
            metrics.upgradeRefused(ChatMetrics.TOKEN);
            return CheckResult.rejectUpgrade(403);
        }
        // Verification may fetch the JWKS over HTTP the first time: keep it off the event loop.
        return vertx.executeBlocking(Uni.createFrom().item(() -> verify(token))).map(jwt -> {
            if (jwt == null || revokedTokens.isRevoked(jwt.getTokenID())) {
                metrics.upgradeRefused(ChatMetrics.TOKEN);
                return CheckResult.rejectUpgradeSync(403);
            }
            long userId = Ids.parse(jwt.getSubject()).getAsLong();
            // Abuse limit (issue 13): sockets per user; SocketSessions.open closes one that raced past this check.
            long retryAfter = sessions.secondsUntilAdmitted(userId);
            if (retryAfter > 0) {
                metrics.upgradeRefused(ChatMetrics.SOCKETS_PER_USER);
                // API.md: every 429 carries Retry-After
                return CheckResult.rejectUpgradeSync(429, Map.of("Retry-After", List.of(Long.toString(retryAfter))));
            }
            context.userData().put(USER_ID, userId);
            context.userData().put(TOKEN_ID, jwt.getTokenID());
            context.userData().put(EXPIRES_AT, jwt.getExpirationTime());
            context.userData().put(TRANSPORT, context.httpRequest().connection());
            // SIGTERM waits for this socket until it is closed (SocketSweeper closes it at once), not the whole timeout.
            upgradedRequests.endWithConnection(context.httpRequest());
            return CheckResult.permitUpgradeSync();
        });
    }

    /** The verified token, or null when it is not one of ours (bad signature, issuer, expiry, subject). */
    private JsonWebToken verify(String token) {
        try {
            JsonWebToken jwt = parser.parse(token);
            if (Ids.parse(jwt.getSubject()).isEmpty() || jwt.getTokenID() == null) {
                return null;
            }
            return jwt;
        } catch (ParseException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The token: {@code ?token=} (API.md, what Phoenix clients send), else {@code Authorization: Bearer}, else the
     * {@code authToken} of phoenix.js 1.8, which offers the subprotocols {@code phoenix} and
     * {@code base64url.bearer.phx.<the token in base64, unpadded>} (so that the token is in no URL: not in a browser's
     * console, not in any proxy's access log); the answer then selects {@code phoenix}
     * ({@code quarkus.websockets-next.server.supported-subprotocols}).
     */
    static String tokenOf(HttpServerRequest request) {
        String query = request.getParam("token");
        if (query != null && !query.isBlank()) {
            return query;
        }
        String header = request.getHeader("Authorization");
        if (header != null && header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return header.substring(BEARER.length()).trim();
        }
        for (String offered : request.headers().getAll("Sec-WebSocket-Protocol")) {
            for (String protocol : offered.split(",")) {
                String trimmed = protocol.trim();
                if (trimmed.startsWith(AUTH_TOKEN_PROTOCOL)) {
                    return decodeAuthToken(trimmed.substring(AUTH_TOKEN_PROTOCOL.length()));
                }
            }
        }
        return null;
    }

    /**
     * phoenix.js encodes with {@code btoa} (base64's standard alphabet) and drops the padding, although the prefix says
     * base64url: either alphabet is read, padding or not. Null when it is not base64 of text (the upgrade gets 403).
     */
    static String decodeAuthToken(String encoded) {
        try {
            String token = new String(Base64.getDecoder().decode(encoded.replace('-', '+').replace('_', '/')),
                    StandardCharsets.UTF_8);
            return token.isBlank() ? null : token;
        } catch (IllegalArgumentException notBase64) {
            return null;
        }
    }
}
