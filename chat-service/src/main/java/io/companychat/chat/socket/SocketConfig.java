package io.companychat.chat.socket;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

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

    /**
     * A join with {@code since} also replays what was stored this long before that message ({@code CHAT_REPLAY_OVERLAP};
     * 0 = only newer ids): pushes of different senders can reach a socket out of id order, so a client's newest id
     * does not prove it got every older one. Clients keep messages by id and drop what they have.
     */
    @WithDefault("5s")
    Duration replayOverlap();

    /**
     * At shutdown, the open sockets are closed (1001) at most this many a second ({@code CHAT_SHUTDOWN_CLOSE_RATE}; 0
     * = all at once), so that their clients reconnect to the other replicas over seconds, not milliseconds.
     */
    @WithDefault("2000")
    int shutdownCloseRate();

    /**
     * Received frames that may wait while one frame of the same socket is being handled (a {@code send_msg}'s database
     * round trip). Past it a frame gets an error reply instead of waiting; once as many again have been refused
     * before the socket caught up, it is closed with 1008. See {@code InboundFrames}.
     */
    @WithDefault("64")
    int maxWaitingFrames();

    /** The characters those waiting frames may hold together: what bounds the memory they take (≤ 2 bytes each). */
    @WithDefault("262144")
    int maxWaitingChars();

    /**
     * After a socket was closed for flooding (too many frames waiting, or sending on past the message rate), its
     * user may open no socket on this replica for this long (429 at the upgrade).
     */
    @WithDefault("10s")
    Duration abuseCutOff();

    /**
     * Open sockets this replica holds before it refuses further upgrades with 503 and {@code Retry-After: 1}
     * ({@code CHAT_MAX_SOCKETS}); 0 = no cap. See {@code SocketCapacity}.
     */
    @WithDefault("20000")
    int maxSockets();

    /** Open sockets one user may hold on this replica ({@code CHAT_SOCKETS_PER_USER}); 0 = no limit. */
    @WithDefault("20")
    int maxPerUser();

    /**
     * Origins, besides the gateway's own, whose pages may open the socket ({@code CHAT_ALLOWED_ORIGINS}, a comma
     * list such as {@code https://chat.example.com}). See {@code OriginCheck}.
     */
    Optional<List<String>> allowedOrigins();

    /** How often idle sockets and expired tokens are looked for. */
    @WithDefault("500ms")
    Duration sweepInterval();
}
