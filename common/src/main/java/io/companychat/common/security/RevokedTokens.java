package io.companychat.common.security;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;

import io.companychat.common.notify.PgNotifications;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * The revoked token ids this service must refuse, kept in memory. auth-service commits each
 * logout with a {@code NOTIFY token_revoked '<jti> <exp>'}, which reaches every service within
 * milliseconds; after any (re)connection of the listener the whole list is reloaded, so nothing
 * revoked while it was away is missed. Entries leave once their token has expired anyway.
 */
@ApplicationScoped
public class RevokedTokens {

    public static final String CHANNEL = "token_revoked";
    static final long FIRST_RELOAD_RETRY_MS = 1000;
    static final long MAX_RELOAD_RETRY_MS = 30_000;
    static final long PURGE_INTERVAL_MS = 60_000;

    private final Map<String, Instant> revoked = new ConcurrentHashMap<>();
    private final RevocationSnapshot snapshot;
    private final PgNotifications notifications;
    private final Event<TokenRevoked> events;
    private final Vertx vertx;

    public RevokedTokens(RevocationSnapshot snapshot, PgNotifications notifications, Event<TokenRevoked> events, Vertx vertx) {
        this.snapshot = snapshot;
        this.notifications = notifications;
        this.events = events;
        this.vertx = vertx;
    }

    void start(@Observes StartupEvent startup) {
        notifications.listen(CHANNEL, this::onNotification, this::reload);
        vertx.setPeriodic(PURGE_INTERVAL_MS, id -> purgeExpired());
    }

    public boolean isRevoked(String jti) {
        return jti != null && revoked.containsKey(jti);
    }

    /** Records a revocation this service learnt of; also the hook for auth-service's own logouts. */
    public void add(Revocation revocation) {
        if (revocation.expiresAt().isBefore(Instant.now())) {
            return;
        }
        if (revoked.putIfAbsent(revocation.jti(), revocation.expiresAt()) == null) {
            events.fireAsync(new TokenRevoked(revocation.jti()));
        }
    }

    /** Payload: {@code <jti> <expiry as epoch seconds>}. */
    static Revocation parse(String payload) {
        String[] parts = payload.trim().split(" ");
        return new Revocation(parts[0], Instant.ofEpochSecond(Long.parseLong(parts[1])));
    }

    private void onNotification(String payload) {
        add(parse(payload));
    }

    private void reload() {
        reload(FIRST_RELOAD_RETRY_MS);
    }

    /** Retries with a doubling delay while auth-service does not answer (it may start after us). */
    private void reload(long retryMs) {
        snapshot.load().subscribe().with(
                list -> list.forEach(this::add),
                failure -> {
                    if (retryMs == FIRST_RELOAD_RETRY_MS || retryMs >= MAX_RELOAD_RETRY_MS) {
                        Log.warnf("Could not load revoked tokens (%s); retrying in %d ms", failure.toString(), retryMs);
                    }
                    vertx.setTimer(retryMs, id -> reload(Math.min(retryMs * 2, MAX_RELOAD_RETRY_MS)));
                });
    }

    private void purgeExpired() {
        Instant now = Instant.now();
        revoked.values().removeIf(expiry -> expiry.isBefore(now));
    }
}
