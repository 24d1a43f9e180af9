package io.companychat.chat.config;

import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

@ConfigMapping(prefix = "chat")
public interface ChatConfig {

    /** What a client is told to wait ({@code Retry-After}, seconds) when user-service cannot answer. */
    @WithDefault("5")
    int userServiceRetryAfterSeconds();

    Messages messages();

    Conversations conversations();

    Signals signals();

    Presence presence();

    Search search();

    Bus bus();

    /** How the replicas tell each other about live events (see {@code MessageBus}). */
    interface Bus {

        /**
         * {@code postgres} (LISTEN/NOTIFY: every replica gets every event; nothing to run but PostgreSQL) or
         * {@code nats} (routing by interest: a replica gets the events of the users whose sockets it holds)
         * ({@code CHAT_BUS}). Every replica of one system must use the same.
         */
        @WithDefault("postgres")
        Kind kind();

        /** The NATS servers, comma-separated, when {@link #kind()} is {@code nats} ({@code NATS_URL}). */
        @WithDefault("nats://127.0.0.1:4222")
        String natsUrl();

        /**
         * The first token of every subject this system uses ({@code <prefix>.user.<id>}, {@code <prefix>.all}), so
         * that systems sharing one NATS never see each other's events ({@code CHAT_NATS_PREFIX}).
         */
        @WithDefault("chat")
        String natsPrefix();

        /** A token for NATS's token authorization ({@code CHAT_NATS_TOKEN}, from a Secret); none: no token sent. */
        Optional<String> natsToken();

        /**
         * A NATS credentials file, the user's JWT and nkey seed ({@code CHAT_NATS_CREDENTIALS}: its path, mounted from a
         * Secret); none: no user credentials sent.
         */
        Optional<String> natsCredentials();

        /**
         * How often the PostgreSQL bus checks whether another replica listens ({@code PgMessageBus}): while provably
         * none does, it sends nothing.
         */
        @WithDefault("1s")
        java.time.Duration replicaCheckInterval();

        enum Kind {
            POSTGRES,
            NATS
        }
    }

    /** Message search (see {@code MessageService.search}). */
    interface Search {

        /** Searches one user may run per second ({@code CHAT_SEARCH_RATE}), bursts of three times that; 0 turns it off. */
        @WithDefault("5")
        int rate();
    }

    /** Presence across replicas (see {@code PresenceTracker}). */
    interface Presence {

        /** How often a replica says it is alive, and reaps the connections of replicas that are not. */
        @WithDefault("10s")
        java.time.Duration heartbeatInterval();

        /** A replica not heard from for this long is dead: its connections leave everyone's view. */
        @WithDefault("30s")
        java.time.Duration replicaTimeout();

        /**
         * A connection gets at most one {@code presence_diff} per window ({@code CHAT_PRESENCE_DIFF_WINDOW}): the
         * first change in a quiet window goes at once, the ones after it in the window go together at its end, merged
         * into one diff. What keeps a reconnect storm from becoming a frame per change per watcher; 0 sends every
         * change as a diff of its own.
         */
        @WithDefault("250ms")
        java.time.Duration diffWindow();
    }

    /** Read markers and typing (see {@code SignalRateLimiter}, {@code TypingService}). */
    interface Signals {

        /**
         * Read markers moved and typing events one user may send per second, REST and socket together
         * ({@code CHAT_SIGNAL_RATE}), with bursts of up to three times that; 0 turns the limit off.
         */
        @WithDefault("20")
        int rate();

        /** How long a forwarded {@code typing} of one user in one conversation holds back the next ones (API.md: 2 s). */
        @WithDefault("2s")
        java.time.Duration typingInterval();

        /** Conversations whose members this replica keeps in memory for {@code typing} (no database read per event). */
        @WithDefault("100000")
        int memberCacheSize();

        /**
         * Batches of read markers being written at once (a group commit, as messages'
         * {@code chat.messages.write-batches}); the marks that arrive meanwhile wait for the next batch. One: a
         * mark's statement is cheap next to its commit, so marks that arrive together share one (README, "Read state
         * and typing").
         */
        @WithDefault("1")
        int markBatches();
    }

    interface Conversations {

        /**
         * The most conversations {@code GET /api/conversations} returns (the most recently active
         * ones): API.md has no cursor there, so the list is capped.
         */
        @WithDefault("1000")
        int listLimit();

        /** How often the message tallies that keep long unread counts cheap are written (see {@code UnreadTallies}). */
        @WithDefault("5s")
        java.time.Duration tallyInterval();
    }

    /** How messages are written (see {@code MessageWriter}). */
    interface Messages {

        /** Batches of messages being written at once; what arrives meanwhile waits for the next batch. */
        @WithDefault("2")
        int writeBatches();

        /** The most messages in one INSERT. */
        @WithDefault("256")
        int maxBatchSize();

        /**
         * Messages one user may post per second, REST and socket together ({@code CHAT_MESSAGE_RATE}), with bursts of
         * up to three times that; 0 turns the limit off. See {@code MessageRateLimiter}.
         */
        @WithDefault("10")
        int rate();
    }
}
