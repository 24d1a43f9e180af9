package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.common.testing.ServiceProcess;
import io.companychat.system.RunningSystem.TestUser;

/**
 * Presence with the real {@code phoenix} npm client's {@code Presence} object, unchanged, on both
 * chat-service replicas ({@code src/test/node/presence-check.mjs}): onSync, who is listed, devices as
 * metas, contacts made and lost through the gateway's REST API, the same view on both replicas, and
 * the users of a SIGKILLed replica leaving within 60 s. Kills replica 2 and starts it again, so it
 * runs among the destructive tests.
 */
@ExtendWith(SystemExtension.class)
@Order(Order.DEFAULT + 3)
class PresenceIT {

    private static final Path CLIENT = RunningSystem.nodeClients();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long RUN_LIMIT_SECONDS = 150;

    private static RunningSystem system;

    @BeforeAll
    static void installClient() throws Exception {
        RunningSystem.installedNodeClients();
    }

    @Test
    void thePhoenixClientsPresenceWorksUnchangedAcrossReplicas() throws Exception {
        Map<String, Object> users = new LinkedHashMap<>();
        Map<String, String> tokens = new LinkedHashMap<>();
        for (String name : List.of("ann", "bob", "carl", "dan", "eve")) {
            TestUser user = system.register(name);
            String token = system.login(user);
            tokens.put(name, token);
            users.put(name, Map.of("id", user.id(), "token", token));
        }
        system.conversation(tokens.get("ann"), id(users, "bob"));
        system.conversation(tokens.get("ann"), id(users, "carl"));
        String args = JSON.writeValueAsString(Map.of(
                "replicas", List.of(system.wsBase("chat-service") + "/socket", system.wsBase("chat-service-2") + "/socket"),
                "api", system.gatewayUrl(),
                "users", users));

        ServiceProcess replica2 = system.service("chat-service-2");
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        Process node = new ProcessBuilder("node", "presence-check.mjs", args).directory(CLIENT.toFile())
                .redirectErrorStream(true).start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
                Writer answers = new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8)) {
            Thread watchdog = new Thread(() -> {
                try {
                    if (!node.waitFor(RUN_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                        output.add("(stopped after " + RUN_LIMIT_SECONDS + " s)");
                        node.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    node.destroyForcibly();
                }
            }, "presence-check-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                output.add(line);
                if (line.startsWith("{\"need\":\"kill replica 2\"")) {
                    replica2.kill();
                    answers.write("killed\n");
                    answers.flush();
                }
            }
            node.waitFor(10, TimeUnit.SECONDS);
            watchdog.interrupt();
        } finally {
            if (!replica2.isAlive()) {
                replica2.restart();
            }
        }

        String last = output.isEmpty() ? "{}" : output.get(output.size() - 1);
        JsonNode result = last.startsWith("{") ? JSON.readTree(last) : JSON.createObjectNode();
        System.out.printf("PresenceIT: %d checks passed; a SIGKILLed replica's users left after %s ms%n",
                result.path("checks").size(), result.path("killedReplicaLeftAfterMs"));
        assertThat(result.path("failed")).as("failed checks; output:%n%s", String.join("\n", output)).isEmpty();
        assertThat(result.path("ok").asBoolean()).as("presence run; output:%n%s", String.join("\n", output)).isTrue();
        assertThat(result.path("checks").size()).as("checks run").isGreaterThanOrEqualTo(18);
    }

    private static long id(Map<String, Object> users, String name) {
        return ((Number) ((Map<?, ?>) users.get(name)).get("id")).longValue();
    }
}
