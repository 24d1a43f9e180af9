package io.companychat.chat.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The second (and only other) application start of chat-service's tests: the limits as deployed, which %test turns
 * off or widens for the other tests (they post hundreds of messages as one user): the message and signal rates at
 * their production defaults, and a socket cap small enough to reach ({@code SocketCapacityTest}). Every test class
 * that needs deployed limits uses this one profile, so that Quarkus starts once for all of them.
 */
public class DeployedLimits implements QuarkusTestProfile {

    /** {@code CHAT_MESSAGE_RATE}'s default: bursts of 30. */
    public static final int MESSAGE_RATE = 10;
    /** {@code CHAT_SIGNAL_RATE}'s default: read markers and typing, bursts of 60. */
    public static final int SIGNAL_RATE = 20;
    /**
     * {@code CHAT_MAX_SOCKETS}: above the 3 sockets MessageRateLimitTest holds at once (plus any a previous test's
     * close has not freed yet), low enough that SocketCapacityTest fills the replica in a moment.
     */
    public static final int MAX_SOCKETS = 6;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("chat.messages.rate", Integer.toString(MESSAGE_RATE), "chat.signals.rate", Integer.toString(SIGNAL_RATE),
                "chat.socket.max-sockets", Integer.toString(MAX_SOCKETS));
    }
}
