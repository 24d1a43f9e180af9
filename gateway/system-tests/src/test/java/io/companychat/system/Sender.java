package io.companychat.system;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.ServiceProcess;

/**
 * A chat client that sends one message after another, each with its own {@code client_id} (which
 * is also its content), and writes down what it was told for each: the message id when it was
 * acknowledged, else why not. Runs on its own thread until {@link #stop()}.
 */
final class Sender implements Runnable {

    /** What the client saw for one message. */
    record Attempt(String clientId, boolean acknowledged, long id, String outcome, long millis, long startedAtMillis,
            long endedAtMillis) {
    }

    private final String prefix;
    private final Function<String, Attempt> sendOne;
    private final List<Attempt> attempts = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    private Sender(String prefix, Function<String, Attempt> sendOne) {
        this.prefix = prefix;
        this.sendOne = sendOne;
        this.thread = new Thread(this, "sender-" + prefix);
        this.thread.setDaemon(true);
    }

    static Sender start(String prefix, Function<String, Attempt> sendOne) {
        Sender sender = new Sender(prefix, sendOne);
        sender.thread.start();
        return sender;
    }

    @Override
    public void run() {
        int n = 0;
        while (running) {
            String clientId = prefix + "-" + (++n);
            Attempt attempt = sendOne.apply(clientId);
            synchronized (attempts) {
                attempts.add(attempt);
            }
            if (!attempt.acknowledged()) {
                ServiceProcess.sleep(100);
            }
        }
    }

    /** Stops after the message being sent now; what was seen. */
    List<Attempt> stop() {
        running = false;
        try {
            thread.join(Duration.ofSeconds(30).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            throw new AssertionError("sender " + prefix + " is stuck in a send");
        }
        return attempts();
    }

    List<Attempt> attempts() {
        synchronized (attempts) {
            return List.copyOf(attempts);
        }
    }

    long acknowledgedSince(long epochMillis) {
        return attempts().stream().filter(a -> a.acknowledged() && a.startedAtMillis() >= epochMillis).count();
    }

    /** Over REST: POST /api/conversations/{id}/messages at {@code baseUrl}. */
    static Function<String, Attempt> rest(String baseUrl, String token, long conversation, Duration patience) {
        return clientId -> {
            Exchange exchange = Exchange.post(baseUrl + "/api/conversations/" + conversation + "/messages", token,
                    Map.of("content", clientId, "client_id", clientId), patience);
            boolean ok = exchange.status() == 201 || exchange.status() == 200;
            long id = ok ? exchange.json().get("id").asLong() : 0;
            String outcome = exchange.status() + (exchange.retryAfter() != null ? " Retry-After " + exchange.retryAfter() : "")
                    + (exchange.hasErrorMessage() ? " with message" : " " + exchange.body());
            return new Attempt(clientId, ok, id, outcome, exchange.millis(), exchange.startedAtMillis(),
                    exchange.startedAtMillis() + exchange.millis());
        };
    }

    /** Over the socket: {@code send_msg} on {@code room:chat}, waiting up to {@code patience} for the reply. */
    static Function<String, Attempt> socket(PhoenixTestSocket socket, long recipient, long conversation, Duration patience) {
        return clientId -> {
            long startedAt = System.currentTimeMillis();
            long start = System.nanoTime();
            try {
                String ref = socket.push("room:chat", "send_msg",
                        Map.of("user", recipient, "conv", conversation, "message", clientId, "client_id", clientId));
                JsonNode reply = socket.await(frame -> "phx_reply".equals(frame.path(3).asText()) && ref.equals(frame.path(1).asText()),
                        patience, "reply to " + clientId).get(4);
                long millis = Exchange.elapsed(start);
                boolean ok = "ok".equals(reply.path("status").asText());
                long id = ok ? reply.at("/response/message/id").asLong() : 0;
                return new Attempt(clientId, ok, id, ok ? "ok" : "error " + reply.path("response"), millis, startedAt,
                        startedAt + millis);
            } catch (AssertionError | RuntimeException e) {
                long millis = Exchange.elapsed(start);
                return new Attempt(clientId, false, 0, "no reply: " + e.getMessage(), millis, startedAt, startedAt + millis);
            }
        };
    }
}
