package io.companychat.chat.socket;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

@ConfigMapping(prefix = "chat.socket")
public interface SocketConfig {

    /** A socket that sends nothing, not even a heartbeat, for this long is closed (Phoenix: 60 s). */
    @WithDefault("60s")
    Duration idleTimeout();

    /** Frames waiting to be written to one socket beyond which its client counts as not reading. */
    @WithDefault("1000")
    int maxPendingFrames();

    /** At most this many messages are replayed by a join with {@code since}; older ones come from the history. */
    @WithDefault("1000")
    int replayLimit();

    /** How often idle sockets and expired tokens are looked for. */
    @WithDefault("500ms")
    Duration sweepInterval();
}
