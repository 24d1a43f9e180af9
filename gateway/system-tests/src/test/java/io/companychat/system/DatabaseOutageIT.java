package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.system.RunningSystem.TestUser;
import io.companychat.system.Sender.Attempt;

/**
 * Issue 8, "faults, nothing lost": PostgreSQL goes away under the services (every backend of the
 * database terminated, and for a few seconds no new connection gets through, as in a restart)
 * while clients send messages over the socket and over REST.
 */
@ExtendWith(SystemExtension.class)
@Order(Order.DEFAULT + 1)
class DatabaseOutageIT {

    private static final Duration OUTAGE = Duration.ofSeconds(3);
    /** A client that waits this long for an answer has met a hang, not an error. */
    private static final Duration PATIENCE = Duration.ofSeconds(10);
    /** Answers during the outage must be this quick: the services must not sit on a request waiting for the database. */
    private static final long FAST_ERROR_MILLIS = 5000;
    private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(20);

    private static final List<String> DATABASE_USERS = List.of("user-service", "auth-service", "chat-service", "chat-service-2");

    private static RunningSystem system;

    @Test
    void everyAcknowledgedMessageIsStoredOnceRequestsDuringTheOutageFailFastAndTheServicesRecoverByThemselves() {
        TestUser ann = system.register("Ann");
        TestUser ben = system.register("Ben");
        String annToken = system.login(ann);
        String benToken = system.login(ben);
        long conversation = system.conversation(annToken, ben.id());

        List<Attempt> overSocket;
        List<Attempt> overRest;
        long outageStart;
        long outageEnd;
        long recoveredAt;
        try (PhoenixTestSocket annSocket = PhoenixTestSocket.connect(system.wsBase("gateway"), annToken);
                PhoenixTestSocket benOnReplica2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken)) {
            assertThat(annSocket.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
            assertThat(benOnReplica2.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");

            Sender socketSender = Sender.start("db-socket", Sender.socket(annSocket, ben.id(), conversation, PATIENCE));
            Sender restSender = Sender.start("db-rest", Sender.rest(system.gatewayUrl(), benToken, conversation, PATIENCE));
            Awaitility.await("sends acknowledged before the outage").atMost(PATIENCE).pollInterval(Duration.ofMillis(50))
                    .until(() -> socketSender.acknowledgedSince(0) > 0 && restSender.acknowledgedSince(0) > 0);
            assertThat(benOnReplica2.receivesPush("receive_msg", PhoenixTestSocket.WAIT))
                    .as("before the outage, live delivery across replicas works").isTrue();

            outageStart = System.currentTimeMillis();
            int terminated = Exchange.terminateBackends(system);
            system.databaseRelay().cut();
            // Each packaged service says it is not ready while the database is away (so Kubernetes sends it nothing);
            // the outage lasts at least OUTAGE.
            awaitReadiness(503);
            ServiceProcess.sleep(Math.max(0, outageStart + OUTAGE.toMillis() - System.currentTimeMillis()));
            system.databaseRelay().restore();
            outageEnd = System.currentTimeMillis();
            awaitReadiness(200);
            assertThat(terminated).as("backends of the services terminated").isPositive();

            Awaitility.await("sends acknowledged again after the outage").atMost(RECOVERY_LIMIT).pollInterval(Duration.ofMillis(100))
                    .untilAsserted(() -> {
                        assertThat(socketSender.acknowledgedSince(outageEnd)).as("socket sends acknowledged after the "
                                + "database's return: %s", tail(socketSender.attempts())).isGreaterThanOrEqualTo(3);
                        assertThat(restSender.acknowledgedSince(outageEnd)).as("REST sends acknowledged after the "
                                + "database's return: %s", tail(restSender.attempts())).isGreaterThanOrEqualTo(3);
                    });
            recoveredAt = System.currentTimeMillis();
            overSocket = socketSender.stop();
            overRest = restSender.stop();

            // Live delivery across replicas recovered too (each replica's LISTEN connection came back).
            String afterOutage = "after the outage " + System.nanoTime();
            JsonNode reply = annSocket.awaitReply(annSocket.push("room:chat", "send_msg",
                    Map.of("user", ben.id(), "conv", conversation, "message", afterOutage)));
            assertThat(reply.path("status").asText()).as(reply.toString()).isEqualTo("ok");
            JsonNode pushed = benOnReplica2.await(frame -> "receive_msg".equals(frame.path(3).asText())
                    && afterOutage.equals(frame.at("/4/message/content").asText()), PhoenixTestSocket.WAIT,
                    "receive_msg of the message sent after the outage, on the other replica");
            assertThat(pushed.at("/4/message/id").asLong()).isEqualTo(reply.at("/response/message/id").asLong());

            // A client retries what it got no acknowledgement for, with the same client_id: stored once, whatever happened.
            List<Attempt> retried = new ArrayList<>();
            var socketRetry = Sender.socket(annSocket, ben.id(), conversation, PATIENCE);
            overSocket.stream().filter(a -> !a.acknowledged()).forEach(a -> retried.add(socketRetry.apply(a.clientId())));
            var restRetry = Sender.rest(system.gatewayUrl(), benToken, conversation, PATIENCE);
            overRest.stream().filter(a -> !a.acknowledged()).forEach(a -> retried.add(restRetry.apply(a.clientId())));
            assertThat(retried).as("retries after recovery").allMatch(Attempt::acknowledged);

            List<Attempt> all = new ArrayList<>(overSocket);
            all.addAll(overRest);
            List<Attempt> duringOutage = all.stream()
                    .filter(a -> a.startedAtMillis() >= outageStart + 200 && a.endedAtMillis() <= outageEnd).toList();
            assertThat(duringOutage).as("sends answered during the outage").isNotEmpty();
            assertThat(duringOutage).as("sends during the outage are refused (503 or an error reply), not accepted")
                    .noneMatch(Attempt::acknowledged);
            assertThat(all).as("every send got an answer within %d ms (no hang); all: %s", FAST_ERROR_MILLIS, all)
                    .allMatch(a -> a.millis() < FAST_ERROR_MILLIS);
            assertThat(overRest.stream().filter(a -> !a.acknowledged()).map(Attempt::outcome).collect(Collectors.toSet()))
                    .as("what REST answered while the database was away").allMatch(o -> o.matches("503 Retry-After \\d+ with message"));
            assertThat(overSocket.stream().filter(a -> !a.acknowledged()).map(Attempt::outcome).collect(Collectors.toSet()))
                    .as("what the socket answered while the database was away").allMatch(o -> o.startsWith("error "));

            // Nothing acknowledged is lost, nothing is stored twice: one row per client_id, with the acknowledged id.
            Map<String, Long> copies = Exchange.counts(system,
                    "SELECT content, count(*) FROM messages WHERE conversation_id = ? AND content LIKE 'db-%' GROUP BY content",
                    conversation);
            Set<String> sent = all.stream().map(Attempt::clientId).collect(Collectors.toCollection(TreeSet::new));
            assertThat(copies.keySet()).as("messages stored").isEqualTo(sent);
            assertThat(copies.entrySet().stream().filter(e -> e.getValue() != 1).toList()).as("messages stored more than once").isEmpty();
            Set<Long> acknowledged = new TreeSet<>();
            all.stream().filter(Attempt::acknowledged).forEach(a -> acknowledged.add(a.id()));
            retried.forEach(a -> acknowledged.add(a.id()));
            Set<Long> inHistory = history(benToken, conversation);
            assertThat(inHistory).as("the history through the API holds every acknowledged message").containsAll(acknowledged);
            assertThat(acknowledged).as("one acknowledged id per message sent").hasSize(sent.size());
        }

        // user- and auth-service came back by themselves too.
        TestUser after = system.register("After");
        assertThat(system.login(after)).isNotBlank();
        System.out.printf("DatabaseOutageIT: %d socket and %d REST sends; outage %d ms; recovered %d ms after it%n",
                overSocket.size(), overRest.size(), outageEnd - outageStart, recoveredAt - outageEnd);
    }

    private static Set<Long> history(String token, long conversation) {
        Set<Long> ids = new TreeSet<>();
        String before = null;
        do {
            Exchange page = Exchange.get(system.gatewayUrl() + "/api/conversations/" + conversation + "/messages?limit=100"
                    + (before == null ? "" : "&before=" + before), token, PATIENCE);
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            JsonNode json = page.json();
            json.get("data").forEach(message -> assertThat(ids.add(message.get("id").asLong()))
                    .as("message %s appears once in the history", message.get("id")).isTrue());
            before = json.get("next").isNull() ? null : json.get("next").asText();
        } while (before != null);
        return ids;
    }

    private static List<Attempt> tail(List<Attempt> attempts) {
        return attempts.subList(Math.max(0, attempts.size() - 5), attempts.size());
    }

    private static void awaitReadiness(int status) {
        for (String name : DATABASE_USERS) {
            String ready = system.service(name).baseUrl() + "/q/health/ready";
            Awaitility.await(name + " readiness " + status).atMost(RECOVERY_LIMIT).pollInterval(Duration.ofMillis(100))
                    .until(() -> Exchange.get(ready, null, PATIENCE).status(), answered -> answered == status);
        }
    }

}
