package io.companychat.gateway.config;

import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.ConfigProvider;

import io.quarkus.arc.Unremovable;
import io.quarkus.vertx.VertxOptionsCustomizer;
import io.vertx.core.VertxOptions;

/**
 * One Vert.x event loop per core rather than Quarkus's two: the gateway's work is relaying, both ends of a tunnel on one
 * loop, so a loop never waits on anything but the kernel, and loops beyond the cores only take turns on them. Measured
 * with the gateway benchmark (README, "Event loops"): with one loop per core the gateway's CPU per message was lower
 * in 7 of 8 paired runs and its p99 at 5,000 msg/s better in both pairs. {@code quarkus.vertx.event-loops-pool-size}
 * ({@code QUARKUS_VERTX_EVENT_LOOPS_POOL_SIZE}), when set, still decides.
 */
@Singleton
@Unremovable
public class EventLoopsPerCore implements VertxOptionsCustomizer {

    static final String SETTING = "quarkus.vertx.event-loops-pool-size";

    @Override
    public void accept(VertxOptions options) {
        if (ConfigProvider.getConfig().getOptionalValue(SETTING, Integer.class).isEmpty()) {
            options.setEventLoopPoolSize(Runtime.getRuntime().availableProcessors());
        }
    }
}
