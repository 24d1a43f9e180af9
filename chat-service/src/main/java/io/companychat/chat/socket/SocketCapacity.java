package io.companychat.chat.socket;

import jakarta.inject.Singleton;

import io.companychat.chat.metrics.ChatMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;

/**
 * The replica's socket cap ({@code CHAT_MAX_SOCKETS}): an upgrade that finds this replica holding that many sockets is
 * refused with 503 and {@code Retry-After: 1} by {@link SocketUpgradeRoute}, before its token is read, so that a full
 * replica spends next to nothing on it and the client (Phoenix clients reconnect by themselves) lands on another
 * replica through the Service. The cap keeps a replica's memory within its limit (~11 KB per idle socket, deploy/README)
 * while the autoscaler adds replicas on {@code chat_sockets_open}.
 * <p>
 * Checked at the upgrade only, against the sockets already registered: upgrades that are under way at the same moment
 * are not counted yet, so a burst of simultaneous upgrades may take a replica a few sockets past the cap. Sockets
 * already open are never closed for it.
 * <p>
 * A {@link Startup} singleton, so that {@code chat_sockets_max} is on {@code /q/metrics} before the first upgrade.
 */
@Startup
@Singleton
public class SocketCapacity {

    private final int max;
    private final SocketSessions sessions;
    private final ChatMetrics metrics;

    public SocketCapacity(SocketConfig config, SocketSessions sessions, MeterRegistry registry, ChatMetrics metrics) {
        this.max = Math.max(0, config.maxSockets());
        this.sessions = sessions;
        Gauge.builder("chat.sockets.max", () -> max)
                .description("Sockets this replica accepts before it refuses upgrades with 503 (CHAT_MAX_SOCKETS; 0 = no cap)")
                .register(registry);
        this.metrics = metrics;
    }

    /** Whether a new socket would take the replica past its cap; counts the refusal ({@code chat_socket_upgrades_refused_total{reason="capacity"}}) when it would. */
    boolean refuses() {
        if (max == 0 || sessions.openCount() < max) {
            return false;
        }
        metrics.upgradeRefused(ChatMetrics.CAPACITY);
        return true;
    }
}
