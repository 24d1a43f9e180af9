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
import io.vertx.pgclient.pubsub.PgChannel;
import io.vertx.pgclient.pubsub.PgSubscriber;

/**
 * PostgreSQL {@code LISTEN/NOTIFY} for the whole service over one dedicated connection. A lost
 * connection is re-established every second until the database is back; each channel's
 * {@code onSubscribed} runs after every (re)subscription, so a listener can reload what it may
 * have missed while it was away.
 */
@ApplicationScoped
public class PgNotifications {

    static final long RECONNECT_DELAY_MS = 1000;

    private final Vertx vertx;
    private final PgSubscriber subscriber;
    private final Map<String, PgChannel> channels = new ConcurrentHashMap<>();
    private volatile boolean connecting;
    private volatile boolean stopped;

    public PgNotifications(Vertx vertx,
            @ConfigProperty(name = "quarkus.datasource.reactive.url") String url,
            @ConfigProperty(name = "quarkus.datasource.username") Optional<String> user,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password) {
        this.vertx = vertx;
        PgConnectOptions options = PgConnectOptions.fromUri(url.startsWith("vertx-reactive:") ? url.substring(15) : url);
        user.ifPresent(options::setUser);
        password.ifPresent(options::setPassword);
        options.setConnectTimeout(2000);
        // After a lost connection the subscriber retries by itself, for as long as we run.
        this.subscriber = PgSubscriber.subscriber(vertx, options)
                .reconnectPolicy(retries -> stopped ? -1L : RECONNECT_DELAY_MS);
    }

    /**
     * Listens on {@code channel}: {@code onNotification} gets each payload, {@code onSubscribed}
     * runs once listening has (re)started. Handlers run on the Vert.x event loop.
     */
    public void listen(String channel, Consumer<String> onNotification, Runnable onSubscribed) {
        channels.computeIfAbsent(channel, name -> subscriber.channel(name)
                .subscribeHandler(v -> onSubscribed.run())
                .handler(payload -> {
                    try {
                        onNotification.accept(payload);
                    } catch (RuntimeException e) {
                        Log.errorf(e, "Notification on %s could not be handled", name);
                    }
                }));
        connectUntilUp();
    }

    /** The first connection: the subscriber's own retries start only once it has been connected. */
    private synchronized void connectUntilUp() {
        if (connecting || stopped || (subscriber.actualConnection() != null && !subscriber.closed())) {
            return;
        }
        connecting = true;
        subscriber.connect().onComplete(result -> {
            connecting = false;
            if (result.failed() && !stopped) {
                Log.warnf("LISTEN connection failed (%s); retrying in %d ms", result.cause().getMessage(), RECONNECT_DELAY_MS);
                vertx.setTimer(RECONNECT_DELAY_MS, id -> connectUntilUp());
            }
        });
    }

    @PreDestroy
    void stop() {
        stopped = true;
        subscriber.close();
    }
}
