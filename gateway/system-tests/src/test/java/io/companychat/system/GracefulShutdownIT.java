package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.system.RunningSystem.TestUser;

/**
 * Issue 8, "faults, nothing lost": SIGTERM to each service while it works. Requests in flight
 * finish with their normal answer, open chat sockets get a close frame (not a dropped
 * connection), and the process exits within what Kubernetes gives it after SIGTERM
 * (terminationGracePeriodSeconds minus the preStop sleep, deploy/kubernetes/base).
 */
@ExtendWith(SystemExtension.class)
@Order(Order.DEFAULT + 5)
class GracefulShutdownIT {

    /** terminationGracePeriodSeconds − preStop sleep, per deploy/kubernetes/base/*.yaml. */
    private static final Map<String, Duration> SIGTERM_BUDGET = Map.of(
            "user-service", Duration.ofSeconds(30 - 5), "auth-service", Duration.ofSeconds(30 - 5),
            "chat-service", Duration.ofSeconds(60 - 10), "gateway", Duration.ofSeconds(45 - 10));
    private static final int IN_FLIGHT = 16;
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    /** Lets the requests reach the service before it is told to stop. */
    private static final long HEAD_START_MILLIS = 200;
    private static final int GOING_AWAY = 1001;
    /**
     * chat-service and the gateway close their sockets at SIGTERM; once those and the requests in flight are done
     * they exit, well before their shutdown timeout (Quarkus alone would count an upgraded request in flight for
     * good and wait all of it: chat-service's {@code UpgradedRequests}, the gateway's {@code SocketTunnels}).
     */
    private static final Duration SOCKETS_CLOSED_EXIT = Duration.ofSeconds(8);
    /**
     * Sockets open at SIGTERM beside the test's own, closed paced: {@code CHAT_SHUTDOWN_CLOSE_RATE} and
     * {@code GATEWAY_SHUTDOWN_CLOSE_RATE} are 50 a second here (5 every 100 ms), so 20 take 4 slices, 300 ms or more.
     */
    private static final int PACED_SOCKETS = 18;
    private static final Duration PACED_AT_LEAST = Duration.ofMillis(250);

    private static RunningSystem system;

    @Test
    void userServiceFinishesRegistrationsInFlightAndExitsWithinItsGrace() {
        ServiceProcess users = system.service("user-service");
        String batch = UUID.randomUUID().toString().substring(0, 8);
        IntFunction<String> email = i -> "term-" + batch + "-" + i + "@example.com";
        Stopped stopped = stopUnderLoad(users, i -> Exchange.post(users.baseUrl() + "/api/users", null,
                Exchange.user("Term", email.apply(i)), PATIENCE));
        users.restart();

        stopped.assertEveryAnswerIs(201);
        system.assertExactlyOneWelcomeMailEach(IntStream.range(0, IN_FLIGHT).mapToObj(email).toList(), Duration.ofSeconds(30));
    }

    @Test
    void authServiceFinishesLoginsInFlightAndExitsWithinItsGrace() {
        TestUser eve = system.register("Eve");
        ServiceProcess auth = system.service("auth-service");
        Stopped stopped = stopUnderLoad(auth, i -> Exchange.post(auth.baseUrl() + "/api/login", null,
                Map.of("creds", Map.of("email", eve.email(), "password", eve.password())), PATIENCE));
        auth.restart();

        stopped.assertEveryAnswerIs(200);
    }

    @Test
    void chatServiceFinishesSendsInFlightClosesItsSocketsWithGoingAwayAndExitsWithinItsGrace() throws SQLException {
        TestUser ann = system.register("Ann");
        TestUser ben = system.register("Ben");
        String annToken = system.login(ann);
        String benToken = system.login(ben);
        long conversation = system.conversation(annToken, ben.id());
        ServiceProcess replica1 = system.service("chat-service");
        String prefix = "term-" + UUID.randomUUID().toString().substring(0, 8);

        Stopped stopped;
        Integer annClose;
        Integer benClose;
        List<PhoenixTestSocket> more = joinedSockets(system.wsBase(replica1.name()), annToken);
        try (PhoenixTestSocket annSocket = PhoenixTestSocket.connect(system.wsBase(replica1.name()), annToken);
                PhoenixTestSocket benSocket = PhoenixTestSocket.connect(system.wsBase(replica1.name()), benToken)) {
            assertThat(annSocket.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
            assertThat(benSocket.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
            more.add(annSocket);
            more.add(benSocket);
            // A message is written in well under the head start: hold the conversation's row so that the
            // inserts (whose foreign-key check needs it) wait until after SIGTERM, then let them through.
            try (Connection lock = system.database().connect()) {
                lock.setAutoCommit(false);
                try (PreparedStatement hold = lock.prepareStatement("SELECT 1 FROM conversations WHERE id = ? FOR UPDATE")) {
                    hold.setLong(1, conversation);
                    hold.executeQuery().close();
                }
                // Released once the service has begun its shutdown (its sockets got their close frames), so
                // that the sends are still in flight while it stops.
                stopped = stopUnderLoad(replica1, i -> Exchange.post(replica1.baseUrl() + "/api/conversations/" + conversation + "/messages",
                        benToken, Map.of("content", prefix + "-" + i, "client_id", prefix + "-" + i), PATIENCE), () -> {
                            annSocket.awaitServerClose(PATIENCE);
                            commit(lock);
                        });
            }
            annClose = annSocket.awaitServerClose(Duration.ofSeconds(5));
            benClose = benSocket.awaitServerClose(Duration.ofSeconds(5));
            assertClosedPaced(more, "chat-service", GOING_AWAY);
        } finally {
            more.forEach(PhoenixTestSocket::close);
            if (!replica1.isAlive()) {
                replica1.restart();
            }
        }

        stopped.assertEveryAnswerIs(201);
        stopped.assertExitedWithin(SOCKETS_CLOSED_EXIT);
        assertThat(List.of(annClose, benClose)).as("close codes the open sockets got (-1: dropped without a close frame)")
                .containsOnly(GOING_AWAY);
        assertThat(Exchange.count(system, "SELECT count(*) FROM messages WHERE conversation_id = ? AND content LIKE ?",
                conversation, prefix + "-%")).as("messages stored").isEqualTo(IN_FLIGHT);
    }

    @Test
    void gatewayFinishesRequestsInFlightClosesTheSocketsItCarriesWithACloseFrameAndExitsWithinItsGrace() {
        TestUser ann = system.register("Ann");
        String annToken = system.login(ann);
        ServiceProcess gateway = system.service("gateway");
        String batch = UUID.randomUUID().toString().substring(0, 8);

        Stopped stopped;
        Integer closeCode;
        List<PhoenixTestSocket> more = joinedSockets(system.wsBase("gateway"), annToken);
        try (PhoenixTestSocket annSocket = PhoenixTestSocket.connect(system.wsBase("gateway"), annToken)) {
            assertThat(annSocket.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
            more.add(annSocket);
            stopped = stopUnderLoad(gateway, i -> Exchange.post(gateway.baseUrl() + "/api/users", null,
                    Exchange.user("Gate", "gate-" + batch + "-" + i + "@example.com"), PATIENCE));
            closeCode = annSocket.awaitServerClose(Duration.ofSeconds(5));
            assertClosedPaced(more, "the gateway", 1000, GOING_AWAY);
        } finally {
            more.forEach(PhoenixTestSocket::close);
            if (!gateway.isAlive()) {
                gateway.restart();
            }
        }

        stopped.assertEveryAnswerIs(201);
        stopped.assertExitedWithin(SOCKETS_CLOSED_EXIT);
        assertThat(closeCode).as("close code the socket through the gateway got (-1: dropped without a close frame)")
                .isIn(1000, GOING_AWAY);
    }

    /** {@link #PACED_SOCKETS} sockets of the user, joined to {@code room:chat}. */
    private static List<PhoenixTestSocket> joinedSockets(String wsBase, String token) {
        List<PhoenixTestSocket> sockets = new ArrayList<>();
        for (int i = 0; i < PACED_SOCKETS; i++) {
            PhoenixTestSocket socket = PhoenixTestSocket.connect(wsBase, token);
            sockets.add(socket);
            assertThat(socket.joinChat(Map.of()).path("status").asText()).isEqualTo("ok");
        }
        return sockets;
    }

    /**
     * Every socket got a close frame ({@code codes}), and the closes were spread over {@link #PACED_AT_LEAST} or more
     * rather than sent at once: the clients of a stopping replica reconnect elsewhere over time.
     */
    private static void assertClosedPaced(List<PhoenixTestSocket> sockets, String who, Integer... codes) {
        List<Integer> got = sockets.stream().map(socket -> socket.awaitServerClose(Duration.ofSeconds(10))).toList();
        assertThat(got).as("close codes the %d sockets of %s got", sockets.size(), who).isSubsetOf(codes);
        long first = sockets.stream().mapToLong(PhoenixTestSocket::closedAtNanos).min().orElseThrow();
        long last = sockets.stream().mapToLong(PhoenixTestSocket::closedAtNanos).max().orElseThrow();
        Duration spread = Duration.ofNanos(last - first);
        System.out.printf("GracefulShutdownIT: %s closed %d sockets over %d ms%n", who, sockets.size(), spread.toMillis());
        assertThat(spread).as("%s's closes of %d sockets, paced", who, sockets.size()).isGreaterThanOrEqualTo(PACED_AT_LEAST);
    }

    /**
     * Sends {@link #IN_FLIGHT} requests at once, SIGTERMs the service while they are being worked on,
     * and waits for it to exit within its budget.
     */
    private static Stopped stopUnderLoad(ServiceProcess service, IntFunction<Exchange> request) {
        return stopUnderLoad(service, request, () -> {
        });
    }

    private static void commit(Connection connection) {
        try {
            connection.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** As above; {@code afterSigterm} runs right after the signal, while the service is stopping. */
    private static Stopped stopUnderLoad(ServiceProcess service, IntFunction<Exchange> request, Runnable afterSigterm) {
        List<CompletableFuture<Exchange>> answers = new ArrayList<>();
        for (int i = 0; i < IN_FLIGHT; i++) {
            int n = i;
            answers.add(CompletableFuture.supplyAsync(() -> request.apply(n)));
        }
        ServiceProcess.sleep(HEAD_START_MILLIS);
        long terminatedAt = System.currentTimeMillis();
        service.terminate();
        afterSigterm.run();
        Duration budget = SIGTERM_BUDGET.get(service.name());
        boolean exited = service.awaitExit(budget);
        long exitMillis = System.currentTimeMillis() - terminatedAt;
        List<Exchange> exchanges = answers.stream().map(CompletableFuture::join).toList();
        if (!exited) {
            service.kill();
        }
        long answeredAfterSigterm = exchanges.stream().filter(e -> e.startedAtMillis() + e.millis() > terminatedAt).count();
        System.out.printf("GracefulShutdownIT: %s exited %d ms after SIGTERM (code %s); %d of %d requests answered after it%n",
                service.name(), exitMillis, exited ? service.exitValue() : "none, killed", answeredAfterSigterm, exchanges.size());
        assertThat(exited).as("%s exited within %s of SIGTERM; see %s", service.name(), budget, service.log()).isTrue();
        assertThat(answeredAfterSigterm).as("requests still in flight at SIGTERM (else the test proves nothing)").isPositive();
        return new Stopped(service.name(), exchanges, exitMillis);
    }

    private record Stopped(String service, List<Exchange> exchanges, long exitMillis) {
        void assertEveryAnswerIs(int status) {
            assertThat(exchanges).as("answers of %s to the requests in flight at SIGTERM", service)
                    .allMatch(e -> e.status() == status);
        }

        void assertExitedWithin(Duration limit) {
            assertThat(exitMillis).as("ms %s took to exit after SIGTERM (its shutdown timeout: %s)", service,
                    RunningSystem.SHUTDOWN_TIMEOUT).isLessThan(limit.toMillis());
        }
    }

}
