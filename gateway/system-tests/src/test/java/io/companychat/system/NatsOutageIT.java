package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.RunningSystem.TestUser;
import io.companychat.system.Sender.Attempt;

/**
 * Issue 20, faults on the NATS bus ({@code system.bus=nats} only: the module {@code gateway/system-tests/on-nats}): NATS cut off (every connection dropped, new ones refused) and NATS killed and restarted, while Ann on one
 * replica writes to Ben on the other. Every message sent meanwhile is acknowledged and stored; live delivery
 * resumes by itself once NATS is back; Ben, rejoining with {@code since}, gets each acknowledged message he missed,
 * and nothing twice. And presence: what changed while NATS was away is right on every replica once it is back.
 */
@ExtendWith(SystemExtension.class)
@Order(Order.DEFAULT + 2)
class NatsOutageIT {

    private static final Duration PATIENCE = Duration.ofSeconds(15);
    /** jnats tries again every second; a busy machine may need a few. */
    private static final Duration RESUME_LIMIT = Duration.ofSeconds(30);

    private static RunningSystem system;

    @Test
    void messagesSentWhileNatsIsAwayAreStoredAndCaughtUpAndLiveDeliveryResumesByItself() {
        Assumptions.assumeTrue("nats".equals(system.bus()), "NATS faults: gateway/system-tests/on-nats only (-Dsystem.bus=nats)");
        TestUser ann = system.register("Ann");
        TestUser ben = system.register("Ben");
        String annToken = system.login(ann);
        String benToken = system.login(ben);
        long conversation = system.conversation(annToken, ben.id());

        try (PhoenixTestSocket annOn1 = PhoenixTestSocket.connect(system.wsBase("chat-service"), annToken)) {
            assertThat(annOn1.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
            Function<String, Attempt> send = Sender.socket(annOn1, ben.id(), conversation, PATIENCE);
            for (String outage : List.of("cut", "restart")) {
                List<Long> acknowledged = new ArrayList<>();
                List<Long> live = new ArrayList<>();
                long before;
                try (PhoenixTestSocket benOn2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken)) {
                    assertThat(benOn2.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
                    Attempt first = send.apply(outage + "-before");
                    assertThat(first.acknowledged()).as("a message before the %s", outage).isTrue();
                    before = first.id();
                    assertThat(benOn2.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong())
                            .as("live over NATS before the %s", outage).isEqualTo(before);

                    takeNatsAway(outage);
                    List<Attempt> during = new ArrayList<>();
                    try {
                        for (int i = 0; i < 3; i++) {
                            during.add(send.apply(outage + "-during-" + i));
                        }
                    } finally {
                        bringNatsBack(outage);
                    }
                    assertThat(during).as("sends while NATS is away (%s)", outage).allMatch(Attempt::acknowledged);
                    during.forEach(attempt -> acknowledged.add(attempt.id()));

                    // Live delivery resumes by itself: a message sent after NATS came back reaches Ben live.
                    long deadline = System.currentTimeMillis() + RESUME_LIMIT.toMillis();
                    for (int probe = 0; true; probe++) {
                        assertThat(System.currentTimeMillis()).as("live delivery resumed within %s after the %s", RESUME_LIMIT,
                                outage).isLessThan(deadline);
                        Attempt after = send.apply(outage + "-after-" + probe);
                        assertThat(after.acknowledged()).isTrue();
                        acknowledged.add(after.id());
                        if (receivedLive(benOn2, live, after.id(), Duration.ofSeconds(1))) {
                            break;
                        }
                    }
                    // What Ann sent while NATS was away reaches Ben's socket, which stayed open, without a rejoin: once
                    // the bus is back the replicas read what was stored since the loss began and push what they had
                    // not delivered (a client cannot know it missed anything).
                    List<Long> sentWhileAway = during.stream().map(Attempt::id).toList();
                    long caughtUpBy = System.currentTimeMillis() + RESUME_LIMIT.toMillis();
                    while (!live.containsAll(sentWhileAway)) {
                        assertThat(System.currentTimeMillis()).as("Ben's open socket gets %s, sent while NATS was away (%s); "
                                + "it got %s", sentWhileAway, outage, live).isLessThan(caughtUpBy);
                        receivedLive(benOn2, live, -1, Duration.ofMillis(500));
                    }
                    assertThat(benOn2.receivesPush("receive_msg", Duration.ofMillis(300))).as("a push beyond (%s)", outage)
                            .isFalse();
                }
                assertThat(live).as("pushes live to Ben's socket (%s)", outage).doesNotHaveDuplicates();
                assertThat(acknowledged).as("pushed live only what was acknowledged (%s)", outage).containsAll(live);

                // Ben comes back with since = the last message he saw before the outage: everything after it, once, in order
                // (after what was stored in the replay overlap before it, which he has: the previous round's last ones).
                try (PhoenixTestSocket benAgain = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken)) {
                    assertThat(benAgain.joinChat(Map.of("since", before)).path("status").asText()).isEqualTo("ok");
                    List<Long> caughtUp = new ArrayList<>();
                    while (!caughtUp.containsAll(acknowledged)) {
                        caughtUp.add(benAgain.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong());
                    }
                    assertThat(caughtUp).as("replayed after since=%d (%s)", before, outage).doesNotHaveDuplicates().isSorted();
                    assertThat(caughtUp.stream().filter(id -> id > before).toList())
                            .as("caught up with since=%d after the %s", before, outage).isEqualTo(acknowledged);
                    assertThat(benAgain.receivesPush("receive_msg", Duration.ofMillis(300))).as("a push beyond the sent")
                            .isFalse();
                }
                Map<String, Long> stored = Exchange.counts(system,
                        "SELECT content, count(*) FROM messages WHERE conversation_id = ? AND content LIKE ? GROUP BY content",
                        conversation, outage + "-%");
                assertThat(stored.values()).as("each message stored once (%s)", outage).allMatch(count -> count == 1);
                assertThat(stored).as("messages stored (%s)", outage).hasSize(acknowledged.size() + 1);
                System.out.printf("NatsOutageIT: %s: %d messages acknowledged after the first, %d of them reached Ben live%n",
                        outage, acknowledged.size(), live.size());
            }
        }
    }

    /**
     * Presence changed while NATS is away, on both sides: once it is back, every replica's sockets see the truth (the
     * {@code presences} table), as the phoenix client's own {@code Presence} computes it, without rejoining
     * ({@code src/test/node/presence-outage-check.mjs}). Twice: replica 1's link cut (replica 2 never loses NATS, so
     * only what replica 1 does on reconnecting can repair either side), then NATS killed and restarted (both reconnect).
     */
    @Test
    void presenceChangedWhileNatsIsAwayIsTheTruthOnEveryReplicaOnceItIsBack() throws Exception {
        Assumptions.assumeTrue("nats".equals(system.bus()), "NATS faults: gateway/system-tests/on-nats only (-Dsystem.bus=nats)");
        Path client = RunningSystem.installedNodeClients();
        for (String outage : List.of("link of replica 1 cut", "restart")) {
            Map<String, Object> users = new LinkedHashMap<>();
            List<Long> ids = new ArrayList<>();
            for (String name : List.of("ann", "ben", "cat", "dan")) {
                TestUser user = system.register(name);
                users.put(name, Map.of("id", user.id(), "token", system.login(user)));
                ids.add(user.id());
            }
            String args = Exchange.JSON.writeValueAsString(Map.of(
                    "replicas", List.of(system.wsBase("chat-service") + "/socket", system.wsBase("chat-service-2") + "/socket"),
                    "api", system.gatewayUrl(),
                    "users", users));
            List<String> output = new ArrayList<>();
            Process node = new ProcessBuilder("node", "presence-outage-check.mjs", args).directory(client.toFile())
                    .redirectErrorStream(true).start();
            boolean away = false;
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
                    Writer answers = new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8)) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    output.add(line);
                    String answer = switch (line) {
                        case "{\"need\":\"away\"}" -> {
                            away = true;
                            takeNatsAway(outage);
                            yield "done";
                        }
                        case "{\"need\":\"back\"}" -> {
                            away = false;
                            bringNatsBack(outage);
                            yield "done";
                        }
                        case "{\"need\":\"truth\"}" -> Exchange.JSON.writeValueAsString(presences(ids));
                        default -> null;
                    };
                    if (answer != null) {
                        answers.write(answer + "\n");
                        answers.flush();
                    }
                }
                assertThat(node.waitFor(RESUME_LIMIT.toSeconds(), TimeUnit.SECONDS)).as("presence-outage-check ended").isTrue();
            } finally {
                node.destroyForcibly();
                if (away) {
                    bringNatsBack(outage);
                }
            }
            String last = output.isEmpty() ? "{}" : output.get(output.size() - 1);
            JsonNode result = last.startsWith("{") ? Exchange.JSON.readTree(last) : Exchange.JSON.createObjectNode();
            System.out.printf("NatsOutageIT: presence (%s): every view the truth %s ms after NATS was back; %s%n", outage,
                    result.path("resyncedAfterMs"), output.stream().filter(line -> line.startsWith("stale")).toList());
            assertThat(result.path("failed")).as("failed checks (%s); output:%n%s", outage, String.join("\n", output)).isEmpty();
            assertThat(result.path("ok").asBoolean()).as("presence run (%s); output:%n%s", outage, String.join("\n", output))
                    .isTrue();
        }
    }

    /** The truth: the connections joined to room:chat of these users, {"<user id>": [phx_ref, ...]}, refs sorted. */
    private static Map<String, List<String>> presences(List<Long> userIds) throws SQLException {
        Map<String, List<String>> truth = new TreeMap<>();
        try (Connection connection = system.database().connect(); PreparedStatement statement = connection.prepareStatement(
                "SELECT user_id, phx_ref FROM presences WHERE user_id = ANY (?) ORDER BY user_id, phx_ref")) {
            statement.setArray(1, connection.createArrayOf("bigint", userIds.toArray()));
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    truth.computeIfAbsent(Long.toString(rows.getLong(1)), user -> new ArrayList<>()).add(rows.getString(2));
                }
            }
        }
        return truth;
    }

    private static void takeNatsAway(String outage) {
        if ("cut".equals(outage)) {
            system.natsRelay("chat-service").cut();
            system.natsRelay("chat-service-2").cut();
        } else if (outage.startsWith("link of replica 1")) {
            system.natsRelay("chat-service").cut();
        } else {
            system.nats().kill();
        }
    }

    private static void bringNatsBack(String outage) {
        if ("cut".equals(outage)) {
            system.natsRelay("chat-service").restore();
            system.natsRelay("chat-service-2").restore();
        } else if (outage.startsWith("link of replica 1")) {
            system.natsRelay("chat-service").restore();
        } else {
            system.nats().restart();
        }
    }

    /** Takes the receive_msg pushes that arrive within {@code limit} into {@code live}; whether {@code id} was among them. */
    private static boolean receivedLive(PhoenixTestSocket socket, List<Long> live, long id, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                long got = socket.awaitPush("receive_msg", Duration.ofMillis(100)).at("/message/id").asLong();
                live.add(got);
                if (got == id) {
                    return true;
                }
            } catch (AssertionError none) {
                // nothing yet
            }
        }
        return false;
    }
}
