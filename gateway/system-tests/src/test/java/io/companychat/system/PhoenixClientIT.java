package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.system.RunningSystem.TestUser;

/**
 * A client written for the original app keeps working: the real {@code phoenix} npm client (Node,
 * with {@code ws} as transport) connects through the gateway with a token, joins, pushes
 * {@code send_msg}, gets the reply, and the recipient gets {@code receive_msg}.
 */
@ExtendWith(SystemExtension.class)
class PhoenixClientIT {

    private static final Path CLIENT = RunningSystem.nodeClients();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RunningSystem system;

    @BeforeAll
    static void setUp(RunningSystem runningSystem) throws Exception {
        system = runningSystem;
        RunningSystem.installedNodeClients();
    }

    @Test
    void phoenixNpmClientSendsAndReceivesThroughTheGateway() throws Exception {
        TestUser ann = system.register("Ann");
        TestUser ben = system.register("Ben");
        String annToken = system.login(ann);
        String benToken = system.login(ben);
        long conversation = system.conversation(annToken, ben.id());
        String text = "Hi! This is message " + System.nanoTime();

        String args = JSON.writeValueAsString(Map.of(
                "sender", Map.of("id", ann.id(), "token", annToken),
                "recipient", Map.of("id", ben.id(), "token", benToken),
                "conv", conversation,
                "message", text));
        ProcessResult result = run(List.of("node", "phoenix-client-check.mjs", system.gatewaySocketEndpoint(), args), 60);

        assertThat(result.exitCode()).as("node client exit; output: %s", result.output()).isZero();
        JsonNode seen = JSON.readTree(result.output().lines().reduce((first, last) -> last).orElseThrow());
        assertThat(seen.get("ok").asBoolean()).as(result.output()).isTrue();
        JsonNode message = seen.at("/reply/message");
        assertThat(message.get("content").asText()).isEqualTo(text);
        assertThat(message.get("sender_id").asLong()).isEqualTo(ann.id());
        assertThat(message.get("conversation_id").asLong()).isEqualTo(conversation);
        assertThat(seen.at("/received/message")).isEqualTo(message);

        long storedId = given().baseUri(system.gatewayUrl()).auth().oauth2(benToken)
                .when().get("/api/conversations/" + conversation + "/messages")
                .then().statusCode(200).extract().jsonPath().getLong("data[0].id");
        assertThat(storedId).as("the pushed message is in the history").isEqualTo(message.get("id").asLong());
    }

    private record ProcessResult(int exitCode, String output) {
    }

    private static ProcessResult run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(CLIENT.toFile()).redirectErrorStream(true).start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command.get(0) + " did not finish within " + timeoutSeconds + " s");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return new ProcessResult(process.exitValue(), output);
    }
}
