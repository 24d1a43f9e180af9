package io.companychat.common.notify;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.logging.Log;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * PostgreSQL {@code LISTEN/NOTIFY} for the whole service over one dedicated connection. A lost
 * connection is re-established every second until the database is back; each channel's
 * {@code onSubscribed} runs after every (re)subscription, so a listener can reload what it may
 * have missed while it was away.
 * <p>
 * Every connection gets a fresh {@link PgSubscriber}, with every channel registered anew: with one
 * subscriber left to reconnect by itself (its reconnect policy), live delivery across chat
 * replicas never came back after a database outage (gateway's DatabaseOutageIT).
 */
@ApplicationScoped
public class PgNotifications {

    static final long RECONNECT_DELAY_MS = 1000;

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
    /** The subscriber connected or connecting; null between a lost connection and the next attempt. Guarded by {@code this}. */
    private PgSubscriber subscriber;
    private volatile boolean stopped;

    public PgNotifications(Vertx vertx,
            @ConfigProperty(name = "quarkus.datasource.reactive.url") String url,
            @ConfigProperty(name = "quarkus.datasource.username") Optional<String> user,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password) {
        this.vertx = vertx;
        this.options = PgConnectOptions.fromUri(url.startsWith("vertx-reactive:") ? url.substring(15) : url);
        user.ifPresent(options::setUser);
        password.ifPresent(options::setPassword);
        options.setConnectTimeout(2000);
    }

    /**
     * Listens on {@code channel}: {@code onNotification} gets each payload, {@code onSubscribed}
     * runs once listening has (re)started. Handlers run on the Vert.x event loop.
     */
    public void listen(String channel, Consumer<String> onNotification, Runnable onSubscribed) {
        synchronized (this) {
            Listener listener = new Listener(channel, onNotification, onSubscribed);
            // A subscriber still connecting LISTENs to every channel it has once connected; a connected one at once.
            if (listeners.putIfAbsent(channel, listener) == null && subscriber != null) {
                listener.register(subscriber);
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
            fresh.closeHandler(v -> lost(fresh));
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

    private void lost(PgSubscriber closed) {
        synchronized (this) {
            if (subscriber != closed) {
                return;
            }
            subscriber = null;
        }
        if (!stopped) {
            Log.warnf("LISTEN connection lost; reconnecting in %d ms", RECONNECT_DELAY_MS);
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
        }
        if (current != null) {
            current.close();
        }
    }

    private record Listener(String channel, Consumer<String> onNotification, Runnable onSubscribed) {

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
    }
}
