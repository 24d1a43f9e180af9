package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.RunningSystem.TestUser;
import io.companychat.system.Sender.Attempt;

/**
 * Issue 20, faults on the NATS bus ({@code system.bus=nats} only: the module {@code gateway/system-tests/on-nats}): NATS cut off (every connection dropped, new ones refused) and NATS killed and restarted, while Ann on one
 * replica writes to Ben on the other. Every message sent meanwhile is acknowledged and stored; live delivery
 * resumes by itself once NATS is back; Ben, rejoining with {@code since}, gets each acknowledged message he missed,
 * and nothing twice.
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
                }
                assertThat(live).as("pushes live to Ben's socket (%s)", outage).doesNotHaveDuplicates();
                assertThat(acknowledged).as("pushed live only what was acknowledged (%s)", outage).containsAll(live);

                // Ben comes back with since = the last message he saw before the outage: everything after it, once, in order.
                try (PhoenixTestSocket benAgain = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken)) {
                    assertThat(benAgain.joinChat(Map.of("since", before)).path("status").asText()).isEqualTo("ok");
                    List<Long> caughtUp = new ArrayList<>();
                    while (caughtUp.size() < acknowledged.size()) {
                        caughtUp.add(benAgain.awaitPush("receive_msg", PhoenixTestSocket.WAIT).at("/message/id").asLong());
                    }
                    assertThat(caughtUp).as("caught up with since=%d after the %s", before, outage).isEqualTo(acknowledged);
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

    private static void takeNatsAway(String outage) {
        if ("cut".equals(outage)) {
            system.natsRelay().cut();
        } else {
            system.nats().kill();
        }
    }

    private static void bringNatsBack(String outage) {
        if ("cut".equals(outage)) {
            system.natsRelay().restore();
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
