package io.companychat.common.notify;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.logging.Log;
import io.vertx.core.Vertx;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.SslMode;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * PostgreSQL {@code LISTEN/NOTIFY} for the whole service over one dedicated connection. A lost
 * connection is re-established every second until the database is back; each channel's
 * {@code onSubscribed} runs after every (re)subscription, so a listener can reload what it may
 * have missed while it was away, and its {@code onLost} runs as soon as the connection is known
 * to be gone, so that it can stop trusting what it holds.
 * <p>
 * A connection can also die silently (a NAT or firewall forgets it, a peer vanishes without a
 * reset): nothing is ever read again and nothing says so. A heartbeat ({@code SELECT 1} every
 * {@value #HEARTBEAT_INTERVAL_KEY}) must be answered within {@value #HEARTBEAT_TIMEOUT_KEY}; if it
 * is not, the connection counts as lost and a fresh one takes over.
 * <p>
 * Every connection gets a fresh {@link PgSubscriber}, with every channel registered anew: with one
 * subscriber left to reconnect by itself (its reconnect policy), live delivery across chat
 * replicas never came back after a database outage (gateway's DatabaseOutageIT).
 * <p>
 * The connection's {@code application_name} is the service's name plus {@value #APPLICATION_NAME_SUFFIX},
 * so that {@code pg_stat_activity} shows which backend is whose listener.
 * <p>
 * It connects as the reactive pool does, TLS included: the pool's {@code ssl-mode}, {@code trust-all},
 * {@code trust-certificate-pem.certs} and {@code hostname-verification-algorithm} (which the services map from
 * {@code PGSSLMODE}, {@code PGSSLROOTCERT} and {@code PG_HOSTNAME_VERIFICATION}) apply to this connection too, so
 * that no connection of a service goes to the database in the clear when the pool does not.
 */
@ApplicationScoped
public class PgNotifications {

    public static final String HEARTBEAT_INTERVAL_KEY = "pg-notifications.heartbeat-interval";
    public static final String HEARTBEAT_TIMEOUT_KEY = "pg-notifications.heartbeat-timeout";
    public static final String APPLICATION_NAME_SUFFIX = " listen";
    static final long RECONNECT_DELAY_MS = 1000;

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final Duration heartbeatInterval;
    private final Duration heartbeatTimeout;
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    /** The subscriber connected or connecting; null between a lost connection and the next attempt. Guarded by {@code this}. */
    private PgSubscriber subscriber;
    /** The subscriber whose heartbeat is unanswered, if any. Guarded by {@code this}. */
    private PgSubscriber heartbeatPending;
    private long heartbeatTimer = -1;
    private volatile boolean stopped;

    public PgNotifications(Vertx vertx,
            @ConfigProperty(name = "quarkus.datasource.reactive.url") String url,
            @ConfigProperty(name = "quarkus.datasource.username") Optional<String> user,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password,
            @ConfigProperty(name = "quarkus.application.name", defaultValue = "company-chat") String applicationName,
            @ConfigProperty(name = HEARTBEAT_INTERVAL_KEY, defaultValue = "10s") Duration heartbeatInterval,
            @ConfigProperty(name = HEARTBEAT_TIMEOUT_KEY, defaultValue = "5s") Duration heartbeatTimeout,
            Config config) {
        this.vertx = vertx;
        this.options = PgConnectOptions.fromUri(url.startsWith("vertx-reactive:") ? url.substring(15) : url);
        user.ifPresent(options::setUser);
        password.ifPresent(options::setPassword);
        options.setConnectTimeout(2000);
        options.addProperty("application_name", applicationName + APPLICATION_NAME_SUFFIX);
        useTlsOfThePool(options, config);
        this.heartbeatInterval = heartbeatInterval;
        this.heartbeatTimeout = heartbeatTimeout;
    }

    /** The reactive pool's TLS settings, as Quarkus applies them to the pool's connections (PgPoolRecorder). */
    static void useTlsOfThePool(PgConnectOptions options, Config config) {
        String prefix = "quarkus.datasource.reactive.";
        config.getOptionalValue(prefix + "postgresql.ssl-mode", String.class).map(SslMode::of).ifPresent(options::setSslMode);
        options.setTrustAll(config.getOptionalValue(prefix + "trust-all", Boolean.class).orElse(false));
        List<String> certs = config.getOptionalValues(prefix + "trust-certificate-pem.certs", String.class).orElse(List.of());
        if (!certs.isEmpty()) {
            PemTrustOptions trust = new PemTrustOptions();
            certs.forEach(trust::addCertPath);
            options.setTrustOptions(trust);
        }
        String algorithm = config.getOptionalValue(prefix + "hostname-verification-algorithm", String.class).orElse("NONE");
        if (!"NONE".equalsIgnoreCase(algorithm)) {
            options.setHostnameVerificationAlgorithm(algorithm);
        }
    }

    /**
     * Listens on {@code channel}: {@code onNotification} gets each payload, {@code onSubscribed}
     * runs once listening has (re)started. Handlers run on the Vert.x event loop.
     */
    public void listen(String channel, Consumer<String> onNotification, Runnable onSubscribed) {
        listen(channel, onNotification, onSubscribed, () -> {
        });
    }

    /**
     * As {@link #listen(String, Consumer, Runnable)}, and {@code onLost} runs whenever the connection
     * is found dead (closed, or silent past its heartbeat): notifications may be missed from then until
     * the next {@code onSubscribed}.
     */
    public void listen(String channel, Consumer<String> onNotification, Runnable onSubscribed, Runnable onLost) {
        synchronized (this) {
            Listener listener = new Listener(channel, onNotification, onSubscribed, onLost);
            // A subscriber still connecting LISTENs to every channel it has once connected; a connected one at once.
            if (listeners.putIfAbsent(channel, listener) == null && subscriber != null) {
                listener.register(subscriber);
            }
            if (heartbeatTimer < 0 && !heartbeatInterval.isZero() && !heartbeatInterval.isNegative()) {
                heartbeatTimer = vertx.setPeriodic(heartbeatInterval.toMillis(), id -> heartbeat());
            }
        }
        connectUntilUp();
    }

    private void connectUntilUp() {
        PgSubscriber fresh;
        synchronized (this) {
            if (stopped || subscriber != null) {
                return;
            }
            // No reconnect policy: when the connection is lost, the subscriber closes and a fresh one takes over.
            fresh = PgSubscriber.subscriber(vertx, options);
            listeners.values().forEach(listener -> listener.register(fresh));
            fresh.closeHandler(v -> lost(fresh, "LISTEN connection lost"));
            subscriber = fresh;
        }
        fresh.connect().onComplete(result -> {
            if (result.succeeded()) {
                return;
            }
            synchronized (this) {
                if (subscriber == fresh) {
                    subscriber = null;
                }
            }
            fresh.close();
            if (!stopped) {
                Log.warnf("LISTEN connection failed (%s); retrying in %d ms", result.cause(), RECONNECT_DELAY_MS);
                vertx.setTimer(RECONNECT_DELAY_MS, id -> connectUntilUp());
            }
        });
    }

    /** Asks the connected subscriber's connection for {@code SELECT 1}; no answer in time means it is dead. */
    private void heartbeat() {
        PgSubscriber current;
        synchronized (this) {
            current = subscriber;
            if (stopped || current == null || heartbeatPending == current) {
                return;
            }
        }
        PgConnection connection = current.actualConnection();
        if (connection == null) {
            return; // still connecting: the connect timeout covers it
        }
        synchronized (this) {
            heartbeatPending = current;
        }
        long timeout = vertx.setTimer(heartbeatTimeout.toMillis(),
                id -> lost(current, "LISTEN connection did not answer its heartbeat within " + heartbeatTimeout.toMillis() + " ms"));
        connection.query("SELECT 1").execute().onComplete(result -> {
            vertx.cancelTimer(timeout);
            synchronized (this) {
                if (heartbeatPending == current) {
                    heartbeatPending = null;
                }
            }
            if (result.failed()) {
                lost(current, "LISTEN connection failed its heartbeat (" + result.cause() + ")");
            }
        });
    }

    /** The subscriber is gone (closed, or silent): listeners are told at once, and a fresh connection is made. */
    private void lost(PgSubscriber dead, String reason) {
        synchronized (this) {
            if (subscriber != dead) {
                return;
            }
            subscriber = null;
            if (heartbeatPending == dead) {
                heartbeatPending = null;
            }
        }
        listeners.values().forEach(Listener::lost);
        // A silent connection never closes by itself; its close handler finds it replaced and does nothing.
        dead.close();
        if (!stopped) {
            Log.warnf("%s; reconnecting in %d ms", reason, RECONNECT_DELAY_MS);
            vertx.setTimer(RECONNECT_DELAY_MS, id -> connectUntilUp());
        }
    }

    @PreDestroy
    void stop() {
        stopped = true;
        PgSubscriber current;
        synchronized (this) {
            current = subscriber;
            subscriber = null;
            if (heartbeatTimer >= 0) {
                vertx.cancelTimer(heartbeatTimer);
            }
        }
        if (current != null) {
            current.close();
        }
    }

    private record Listener(String channel, Consumer<String> onNotification, Runnable onSubscribed, Runnable onLost) {

        void register(PgSubscriber subscriber) {
            subscriber.channel(channel)
                    .subscribeHandler(v -> onSubscribed.run())
                    .handler(payload -> {
                        try {
                            onNotification.accept(payload);
                        } catch (RuntimeException e) {
                            Log.errorf(e, "Notification on %s could not be handled", channel);
                        }
                    });
        }

        void lost() {
            try {
                onLost.run();
            } catch (RuntimeException e) {
                Log.errorf(e, "Loss of the LISTEN connection could not be handled for %s", channel);
            }
        }
    }
}
