package io.companychat.common.security;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.companychat.common.notify.PgNotifications;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;

/**
 * The revoked token ids this service must refuse, kept in memory. auth-service commits each
 * logout with a {@code NOTIFY token_revoked '<jti> <exp>'}, which reaches every service within
 * milliseconds; after any (re)connection of the listener the whole list is reloaded, so nothing
 * revoked while it was away is missed.
 * <p>
 * Fails closed: the list is {@linkplain #isCurrent() current} only once it has been loaded on the
 * listener's present connection, and stops being current the moment that connection is lost
 * (closed, or silent past its heartbeat). {@link RevocationReadiness} reports the service not
 * ready meanwhile, so that no traffic is sent to a replica that might accept a revoked token.
 * <p>
 * An entry is kept until its token's expiry plus the clock skew that token verification accepts
 * ({@code mp.jwt.verify.clock.skew}, 60 s by default): until then the token still verifies.
 */
@ApplicationScoped
public class RevokedTokens {

    public static final String CHANNEL = "token_revoked";
    static final long FIRST_RELOAD_RETRY_MS = 1000;
    /** Short: while the list cannot be loaded this replica is not ready, so it should notice soon that it can. */
    static final long MAX_RELOAD_RETRY_MS = 5_000;
    static final long PURGE_INTERVAL_MS = 60_000;

    private final Map<String, Instant> revoked = new ConcurrentHashMap<>();
    private final RevocationSnapshot snapshot;
    private final PgNotifications notifications;
    private final Event<TokenRevoked> events;
    private final Vertx vertx;
    private final Duration clockSkew;
    /** Moves on at every (re)subscription and every loss; a reload makes the list current only if nothing happened since it began. */
    private final AtomicLong generation = new AtomicLong();
    private volatile boolean current;

    public RevokedTokens(RevocationSnapshot snapshot, PgNotifications notifications, Event<TokenRevoked> events, Vertx vertx,
            @ConfigProperty(name = "mp.jwt.verify.clock.skew", defaultValue = "60") long clockSkewSeconds) {
        this.snapshot = snapshot;
        this.notifications = notifications;
        this.events = events;
        this.vertx = vertx;
        this.clockSkew = Duration.ofSeconds(Math.max(0, clockSkewSeconds));
    }

    void start(@Observes StartupEvent startup) {
        notifications.listen(CHANNEL, this::onNotification, this::reload, this::connectionLost);
        vertx.setPeriodic(PURGE_INTERVAL_MS, id -> purgeExpired());
    }

    public boolean isRevoked(String jti) {
        return jti != null && revoked.containsKey(jti);
    }

    /**
     * Whether every revocation is known: the list has been loaded since the listener last (re)connected, and
     * that connection is alive. False from start until the first load.
     */
    public boolean isCurrent() {
        return current;
    }

    /** Records a revocation this service learnt of; also the hook for auth-service's own logouts. */
    public void add(Revocation revocation) {
        if (stillVerifies(revocation.expiresAt(), Instant.now())
                && revoked.putIfAbsent(revocation.jti(), revocation.expiresAt()) == null) {
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

    private void connectionLost() {
        generation.incrementAndGet();
        if (current) {
            Log.warn("Revoked-token list no longer current (LISTEN connection lost): not ready until it is reloaded");
        }
        current = false;
    }

    private void reload() {
        reload(generation.incrementAndGet(), FIRST_RELOAD_RETRY_MS);
    }

    /** Retries with a doubling delay while the list cannot be had (auth-service may start after us). */
    private void reload(long reloadGeneration, long retryMs) {
        snapshot.load().subscribe().with(
                list -> {
                    list.forEach(this::add);
                    if (generation.get() == reloadGeneration) {
                        if (!current) {
                            Log.infof("Revoked-token list loaded (%d in force)", revoked.size());
                        }
                        current = true;
                    }
                },
                failure -> {
                    if (generation.get() != reloadGeneration) {
                        return; // the connection changed meanwhile: its own reload has taken over
                    }
                    if (retryMs == FIRST_RELOAD_RETRY_MS || retryMs >= MAX_RELOAD_RETRY_MS) {
                        Log.warnf("Could not load revoked tokens (%s); retrying in %d ms", failure.toString(), retryMs);
                    }
                    vertx.setTimer(retryMs, id -> reload(reloadGeneration, Math.min(retryMs * 2, MAX_RELOAD_RETRY_MS)));
                });
    }

    private void purgeExpired() {
        Instant now = Instant.now();
        revoked.values().removeIf(expiry -> !stillVerifies(expiry, now));
    }

    /** A token verifies until its expiry plus the accepted clock skew: its revocation must be kept that long. */
    private boolean stillVerifies(Instant expiresAt, Instant now) {
        return !expiresAt.plus(clockSkew).isBefore(now);
    }
}
