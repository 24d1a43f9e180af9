package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.RunningSystem.TestUser;

/**
 * The web client the gateway serves at {@code /}, in a real browser (Debian's headless Chromium driven by the
 * {@code playwright-core} npm package; src/test/node/web-client-e2e.mjs): two people register, read their password
 * from the welcome mail that reached the SMTP server, log in, start a conversation, chat live both ways, reload and
 * page back through the history, find the "New messages" divider above what came in unread (and only there) and
 * "Jump to newest" (with the count of what came meanwhile) when scrolled up in a long conversation, the "45 unread
 * messages ↑ Jump" banner when the first unread message is on an older page (the jump loads back to it and shows the
 * divider right above it), a notice naming the group one is removed from (open or not), and log out in a second tab
 * (the first goes to the login page saying "You logged out in another tab."); no console error, failed request or
 * error answer, a 375 px phone for one of them. Screenshots of each page go to target/screenshots.
 * <p>
 * Typing and online dots are checked when the server has them (API.md Part 2): a socket of this test asks it first,
 * and the run says which checks it skipped.
 */
@ExtendWith(SystemExtension.class)
@BusIndependent
class WebClientIT {

    private static final Path NODE = RunningSystem.nodeClients();
    private static final Path SCREENSHOTS = Path.of("target/screenshots").toAbsolutePath();
    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM_PATH", "/usr/bin/chromium"));
    private static final Duration RUN_LIMIT = Duration.ofMinutes(5);
    private static final Duration MAIL_LIMIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private static RunningSystem system;

    @BeforeAll
    static void setUp(RunningSystem runningSystem) throws Exception {
        system = runningSystem;
        assertThat(CHROMIUM).as("Debian's chromium (apt-get install chromium; .ci/run installs it), or CHROMIUM_PATH")
                .isExecutable();
        RunningSystem.installedNodeClients();
    }

    @Test
    void twoPeopleChatInTheBrowser() throws Exception {
        clearScreenshots();
        Map<String, Boolean> features = serverFeatures();
        String options = JSON.writeValueAsString(Map.of(
                "gateway", system.gatewayUrl(),
                "screenshots", SCREENSHOTS.toString(),
                "features", features));
        Process browser = new ProcessBuilder("node", "web-client-e2e.mjs", options)
                .directory(NODE.toFile()).redirectErrorStream(true).start();
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        Thread watchdog = new Thread(() -> {
            try {
                if (!browser.waitFor(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                    output.add("(stopped after " + RUN_LIMIT.toMinutes() + " min)");
                    browser.destroyForcibly();
                }
            } catch (InterruptedException e) {
                browser.destroyForcibly();
            }
        }, "web-client-e2e-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(browser.getInputStream(), StandardCharsets.UTF_8));
                Writer answers = new OutputStreamWriter(browser.getOutputStream(), StandardCharsets.UTF_8)) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                output.add(line);
                if (line.startsWith("{\"need_password\"")) {
                    // The password travels on the script's stdin only: it is never printed.
                    answers.write(system.awaitPassword(JSON.readTree(line).get("need_password").asText(), MAIL_LIMIT) + "\n");
                    answers.flush();
                }
            }
        }
        browser.waitFor(10, TimeUnit.SECONDS);
        watchdog.interrupt();

        String last = output.isEmpty() ? "{}" : output.get(output.size() - 1);
        JsonNode result = last.startsWith("{") ? JSON.readTree(last) : JSON.createObjectNode();
        System.out.printf("WebClientIT: features %s; %d checks passed; skipped: %s; screenshots in %s%n", features,
                result.path("checks").size(), result.path("skipped"), SCREENSHOTS);
        result.path("checks").forEach(check -> System.out.println("  passed: " + check.asText()));
        assertThat(result.path("problems")).as("problems seen in the browser; output:%n%s", String.join("\n", output))
                .isEmpty();
        assertThat(result.path("ok").asBoolean()).as("browser run; output:%n%s", String.join("\n", output)).isTrue();
        assertThat(browser.exitValue()).isZero();
        // 92 checks as of 2026-12-08 (drafts): a script that stops checking early (or skips a block by mistake) must not pass;
        // checks of a feature the server lacks are listed as skipped, and then fewer are required.
        int required = result.path("skipped").isEmpty() ? 88 : 30;
        assertThat(result.path("checks").size()).as("checks run (skipped: %s)", result.path("skipped"))
                .isGreaterThanOrEqualTo(required);
        try (var shots = Files.list(SCREENSHOTS)) {
            assertThat(shots.filter(file -> file.toString().endsWith(".png")).count()).as("screenshots").isGreaterThanOrEqualTo(8);
        }
    }

    /** Screenshots of an earlier run must not count for this one. */
    private static void clearScreenshots() throws IOException {
        Files.createDirectories(SCREENSHOTS);
        try (var shots = Files.list(SCREENSHOTS)) {
            for (Path shot : shots.filter(file -> file.toString().endsWith(".png")).toList()) {
                Files.delete(shot);
            }
        }
    }

    /**
     * What of API.md's Part 2 this server does, asked over a socket of two users of its own: presence (a
     * {@code presence_state} right after the join) and typing (an ok reply to {@code typing}).
     */
    private static Map<String, Boolean> serverFeatures() {
        TestUser one = system.register("Probe");
        TestUser two = system.register("Probe");
        String token = system.login(one);
        long conversation = system.conversation(token, two.id());
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect(system.gatewayUrl().replace("http", "ws"), token)) {
            socket.joinChat(Map.of());
            boolean presence = socket.receivesPush("presence_state", Duration.ofSeconds(3));
            JsonNode typing = socket.awaitReply(socket.push("room:chat", "typing", Map.of("conv", conversation)));
            return Map.of("presence", presence, "typing", "ok".equals(typing.path("status").asText()));
        }
    }
}
