package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import jakarta.mail.BodyPart;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.common.testing.ServiceProcess;
import io.companychat.system.RecordingHttp.Answer;

/**
 * Issue 8, "Security": no response, log line (the prod profile's JSON lines, as written and decoded) or email other
 * than the welcome email carries a password or a password hash; {@code /internal/*} answers only callers with the
 * service credential, on every service directly, and neither {@code /internal/*} nor {@code /q/*} is reachable
 * through the gateway.
 */
@ExtendWith(SystemExtension.class)
@BusIndependent
class SecretLeakIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> NO_HEADERS = Map.of();

    private static RunningSystem system;

    @Test
    void noResponseLogLineOrOtherEmailCarriesAPasswordOrItsHash() throws Exception {
        RecordingHttp http = new RecordingHttp();
        String gateway = system.gatewayUrl();
        Map<String, String> secrets = new LinkedHashMap<>();
        Map<String, String> welcomeOf = new LinkedHashMap<>();

        // A registration that sends a password of its own (API.md: ignored), and two ordinary ones.
        String planted = "planted-" + UUID.randomUUID();
        secrets.put("password sent at registration", planted);
        Registered lia = register(http, "Lia", planted);
        Registered max = register(http, "Max", null);
        secrets.put("Lia's generated password", lia.password());
        secrets.put("Max's generated password", max.password());
        welcomeOf.put(lia.email(), lia.password());
        welcomeOf.put(max.email(), max.password());
        Map<String, String> hashes = new LinkedHashMap<>();
        hashes.put("Lia's first hash", hashOf(lia.id()));
        hashes.put("Max's hash", hashOf(max.id()));

        // Logins, right and wrong, and bodies that break in every way around a password.
        String liaToken = loginToken(http, lia.email(), lia.password());
        String maxToken = loginToken(http, max.email(), max.password());
        String wrong = lia.password() + "x";
        String guess = "guess-" + UUID.randomUUID();
        secrets.put("a wrong password", guess);
        expect(http.call("POST", gateway, "/api/login", null, creds(lia.email(), wrong)), 401);
        expect(http.call("POST", gateway, "/api/login", null, creds(lia.email(), guess)), 401);
        expect(http.call("POST", gateway, "/api/login", null, creds("nobody-" + UUID.randomUUID() + "@example.com",
                lia.password())), 401);
        expectRefused(http.call("POST", gateway, "/api/login", null, creds(lia.password(), lia.password())));
        for (String broken : List.of(
                "{\"creds\":{\"email\":\"" + lia.email() + "\",\"password\":\"" + lia.password() + "\"",
                "{\"creds\":{\"email\":\"" + lia.email() + "\",\"password\":\"" + lia.password() + "\",}}",
                "{\"creds\":\"" + lia.password() + "\"}",
                "{\"creds\":{\"email\":\"" + lia.email() + "\",\"password\":[\"" + lia.password() + "\"]}}",
                "{\"creds\":{\"email\":\"" + lia.email() + "\",\"password\":{\"" + lia.password() + "\":1}}}",
                "{\"creds\":{\"email\":\"" + lia.email() + "\",\"" + lia.password() + "\":\"" + lia.password() + "\"}}",
                "[\"" + lia.password() + "\"]")) {
            expectRefused(http.call("POST", gateway, "/api/login", null, broken));
        }
        // The right password plus an unknown field carrying it again: a login or a refusal, never an echo.
        assertThat(http.call("POST", gateway, "/api/login", null, "{\"creds\":{\"email\":\"" + lia.email()
                + "\",\"password\":\"" + lia.password() + "\",\"x\":\"" + lia.password() + "\"}}").status()).isIn(200, 400);
        expectRefused(http.call("POST", gateway, "/api/users", null,
                "{\"user\":{\"name\":\"N\",\"subname\":\"S\",\"email\":\"" + lia.password() + "\",\"job\":\"j\"}}"));
        expectRefused(http.call("POST", gateway, "/api/users", null, "{\"user\":\"" + lia.password() + "\"}"));

        // Password change: wrong current, too short, malformed, then a real change.
        String changed = "changed-" + UUID.randomUUID();
        String tooShort = "Sh0rt" + UUID.randomUUID().toString().substring(0, 4);
        secrets.put("Lia's new password", changed);
        secrets.put("a too short new password", tooShort);
        expect(http.call("PUT", gateway, "/api/users/me/password", liaToken, passwordChange(wrong, changed)), 401);
        expect(http.call("PUT", gateway, "/api/users/me/password", liaToken, passwordChange(lia.password(), tooShort)), 422);
        expectRefused(http.call("PUT", gateway, "/api/users/me/password", liaToken,
                "{\"current_password\":\"" + lia.password() + "\",\"new_password\":[\"" + changed + "\"]}"));
        expectRefused(http.call("PUT", gateway, "/api/users/me/password", liaToken,
                "{\"current_password\":\"" + lia.password() + "\",\"new_password\":\"" + changed + "\""));
        expect(http.call("PUT", gateway, "/api/users/me/password", liaToken, passwordChange(lia.password(), changed)), 204);
        hashes.put("Lia's hash after the change", hashOf(lia.id()));
        String liaAgain = loginToken(http, lia.email(), changed);
        expect(http.call("POST", gateway, "/api/login", null, creds(lia.email(), lia.password())), 401);

        // The rest of the API, where a user JSON could carry a hash along.
        expect(http.call("GET", gateway, "/api/users/me", liaAgain, null), 200);
        expect(http.call("GET", gateway, "/api/users/" + max.id(), liaAgain, null), 200);
        expect(http.call("GET", gateway, "/api/users?limit=100", liaAgain, null), 200);
        long conversation = Exchange.read(expect(http.call("POST", gateway, "/api/conversations", liaAgain,
                "{\"recipient_id\":" + max.id() + "}"), 201).body()).get("id").asLong();
        expect(http.call("POST", gateway, "/api/conversations/" + conversation + "/messages", maxToken,
                "{\"content\":\"hello Lia\"}"), 201);
        expect(http.call("GET", gateway, "/api/conversations/" + conversation + "/messages", liaAgain, null), 200);
        try (PhoenixTestSocket socket = PhoenixTestSocket.connect(gateway.replace("http", "ws"), maxToken)) {
            assertThat(socket.joinChat(Map.of("since", 0)).get("status").asText()).isEqualTo("ok");
            assertThat(socket.awaitReply(socket.push("room:chat", "send_msg",
                    Map.of("conv", conversation, "message", "hi Lia"))).get("status").asText()).isEqualTo("ok");
        }
        // The internal credential check, as auth-service calls it, right and wrong.
        String userService = system.service("user-service").baseUrl();
        Map<String, String> credential = Map.of("X-Service-Token", system.serviceToken());
        expect(http.call("POST", userService, "/internal/credentials", null, "{\"email\":\"" + max.email()
                + "\",\"password\":\"" + max.password() + "\"}", credential), 200);
        expectRefused(http.call("POST", userService, "/internal/credentials", null, "{\"email\":\"" + max.email()
                + "\",\"password\":\"" + guess + "\"}", credential));
        expect(http.call("GET", userService, "/internal/users/" + lia.id(), null, null, credential), 200);
        expect(http.call("POST", gateway, "/api/logout", liaAgain, null), 204);
        expect(http.call("POST", gateway, "/api/logout", liaAgain, null), 401);
        forgetFailedLogins();

        // Every answer, every email but each user's own welcome, every log line: no secret, no hash.
        Map<String, String> everything = new LinkedHashMap<>(secrets);
        everything.putAll(hashes);
        hashes.forEach((name, hash) -> everything.put(name + " (its salt and checksum)", hash.substring(7)));
        List<String> leaks = new ArrayList<>();
        List<Answer> answers = http.answers();
        for (Answer answer : answers) {
            String told = answer.headers() + "\n" + answer.body();
            everything.forEach((name, secret) -> {
                if (told.contains(secret)) {
                    leaks.add(name + " in the answer to " + answer.request() + ": " + answer);
                }
            });
        }
        MimeMessage[] mails = system.smtp().getReceivedMessages();
        for (MimeMessage mail : mails) {
            String to = mail.getRecipients(RecipientType.TO)[0].toString();
            String subject = mail.getSubject();
            String text = subject + "\n" + textOf(mail.getContent());
            String ownPassword = "Generated password".equals(subject) ? welcomeOf.get(to) : null;
            everything.forEach((name, secret) -> {
                if (!secret.equals(ownPassword) && text.contains(secret)) {
                    leaks.add(name + " in the email to " + to + " (" + subject + ")");
                }
            });
        }
        // Logs must not carry tokens either (API.md): their signatures are looked for there too.
        Map<String, String> inLogs = new LinkedHashMap<>(everything);
        inLogs.put("Lia's token", signatureOf(liaToken));
        inLogs.put("Max's token", signatureOf(maxToken));
        long lines = 0;
        long jsonLines = 0;
        for (ServiceProcess service : system.services()) {
            List<String> log = Files.readAllLines(service.log());
            lines += log.size();
            for (int i = 0; i < log.size(); i++) {
                String line = log.get(i);
                // The processes run the prod profile, whose log lines are JSON: a secret is looked for in the line as
                // written and in its decoded fields (an escaped character would hide it from the first).
                String decoded = line;
                if (line.startsWith("{")) {
                    JsonNode entry = JSON.readTree(line);
                    jsonLines++;
                    StringBuilder fields = new StringBuilder(line);
                    entry.fields().forEachRemaining(field -> fields.append('\n').append(field.getValue().isTextual()
                            ? field.getValue().asText() : field.getValue().toString()));
                    decoded = fields.toString();
                }
                for (Map.Entry<String, String> secret : inLogs.entrySet()) {
                    if (decoded.contains(secret.getValue())) {
                        leaks.add(secret.getKey() + " in " + service.name() + ".log line " + (i + 1) + ": " + line);
                    }
                }
            }
        }
        String outbox = outboxBodies();
        secrets.forEach((name, secret) -> {
            if (outbox.contains(secret)) {
                leaks.add(name + " still in mail_outbox after the mail was sent");
            }
        });
        System.out.printf("Secret leaks: %d secrets and %d hashes looked for in %d answers, %d emails, %d log lines (%d JSON) "
                + "of %d services%n", secrets.size(), hashes.size(), answers.size(), mails.length, lines, jsonLines,
                system.services().size());
        assertThat(jsonLines).as("the prod profile's JSON log lines were scanned").isPositive();

        assertThat(welcomeOf.keySet()).as("the welcome emails were seen (the scan reads real mail)").allSatisfy(email ->
                assertThat(Stream.of(mails).anyMatch(mail -> recipient(mail).equals(email))).isTrue());
        assertThat(leaks).as("passwords or hashes where they must never be (" + leaks.size() + ")\n"
                + String.join("\n", leaks)).isEmpty();
    }

    @Test
    void internalRoutesRefuseEveryCallWithoutTheServiceCredentialOnEveryServiceDirectly() throws Exception {
        RecordingHttp http = new RecordingHttp();
        Registered ivy = register(http, "Ivy", null);
        String credentials = "{\"email\":\"" + ivy.email() + "\",\"password\":\"" + ivy.password() + "\"}";
        Map<String, List<Route>> routes = new LinkedHashMap<>();
        routes.put("user-service", List.of(new Route("POST", "/internal/credentials", credentials),
                new Route("GET", "/internal/users/" + ivy.id(), null)));
        routes.put("auth-service", List.of(new Route("GET", "/internal/revoked-tokens", null)));
        routes.put("chat-service", List.of(new Route("GET", "/internal/users/" + ivy.id(), null),
                new Route("GET", "/internal/revoked-tokens", null)));
        routes.put("chat-service-2", routes.get("chat-service"));

        String token = system.serviceToken();
        Map<String, Map<String, String>> credentialsTried = new LinkedHashMap<>();
        credentialsTried.put("none", NO_HEADERS);
        credentialsTried.put("empty", Map.of("X-Service-Token", ""));
        credentialsTried.put("wrong", Map.of("X-Service-Token", "wrong-" + UUID.randomUUID()));
        credentialsTried.put("half of the right one", Map.of("X-Service-Token", token.substring(0, token.length() / 2)));
        credentialsTried.put("the right one and more", Map.of("X-Service-Token", token + "x"));
        credentialsTried.put("the right one upper-cased", Map.of("X-Service-Token", token.toUpperCase()));
        credentialsTried.put("as a bearer token", Map.of("Authorization", "Bearer " + token));
        credentialsTried.put("a user's token", Map.of("Authorization", "Bearer " + system.login(ivy.asTestUser())));
        credentialsTried.put("in another header", Map.of("X-Service-Credential", token));

        List<String> violations = new ArrayList<>();
        int tries = 0;
        for (Map.Entry<String, List<Route>> service : routes.entrySet()) {
            String base = system.service(service.getKey()).baseUrl();
            for (Route route : service.getValue()) {
                for (String path : pathVariants(route.path())) {
                    for (Map.Entry<String, Map<String, String>> credential : credentialsTried.entrySet()) {
                        tries++;
                        Answer answer = http.call(route.method(), base, path, null, route.body(), credential.getValue());
                        if (answer.status() < 400 || answer.status() >= 500 || answer.body().contains(ivy.email())) {
                            violations.add(service.getKey() + " " + route.method() + " " + path + " with credential "
                                    + credential.getKey() + " -> " + answer);
                        } else if (path.equals(route.path()) && !service.getKey().startsWith("chat")
                                && answer.status() != 401) {
                            violations.add(service.getKey() + " " + route.method() + " " + path + " with credential "
                                    + credential.getKey() + " -> " + answer.status() + " (API: 401 without the credential)");
                        }
                    }
                }
                if (!service.getKey().startsWith("chat")) {
                    Answer allowed = http.call(route.method(), base, route.path(), null, route.body(),
                            Map.of("X-Service-Token", token));
                    assertThat(allowed.status()).as("with the credential (the test can tell): " + allowed).isEqualTo(200);
                }
            }
        }
        System.out.println("Internal routes: " + tries + " calls without the right credential to 4 services");
        assertThat(violations).as("internal routes answering without the service credential (" + violations.size()
                + " of " + tries + ")\n" + String.join("\n", violations)).isEmpty();
    }

    @Test
    void internalAndManagementRoutesAre404ThroughTheGateway() {
        RecordingHttp http = new RecordingHttp();
        List<String> paths = new ArrayList<>();
        for (String path : List.of("/internal/credentials", "/internal/users/1", "/internal/revoked-tokens", "/internal",
                "/internal/", "/q/health", "/q/health/live", "/q/health/ready", "/q/metrics", "/q/openapi",
                "/q/swagger-ui", "/q/dev-ui", "/q/dev", "/q/info", "/q", "/q/", "/dev/sent-mails",
                "//internal/users/1", "/internal//users/1", "//q/metrics", "/q//metrics", "/internal;x=1/users/1",
                "/q;x=1/metrics", "/%69nternal/users/1", "/%71/metrics", "/Internal/users/1", "/Q/metrics",
                "/internal/users/1?x=/api/users", "/api/users/../../internal/users/1", "/api/users/%2e%2e/%2e%2e/q/metrics",
                "/api/users/..;/..;/internal/users/1", "/socket/../q/metrics", "/api/conversations/../../q/health")) {
            paths.add(path);
        }
        List<String> violations = new ArrayList<>();
        Map<String, String> credential = Map.of("X-Service-Token", system.serviceToken());
        for (String path : paths) {
            for (String method : List.of("GET", "POST")) {
                for (Map<String, String> headers : List.of(NO_HEADERS, credential)) {
                    Answer answer = http.call(method, system.gatewayUrl(), path, null, method.equals("POST") ? "{}" : null,
                            headers);
                    boolean plain = !path.contains("..") && !path.contains("%2e") && !path.contains("//");
                    boolean refused = plain ? answer.status() == 404 : answer.status() == 400 || answer.status() == 404;
                    if (!refused || answer.body().contains("status") || answer.body().contains("# HELP")
                            || answer.body().contains("openapi")) {
                        violations.add(method + " " + path + (headers.isEmpty() ? "" : " (with the credential)") + " -> "
                                + answer);
                    }
                }
            }
        }
        // The routes exist on the services themselves: the gateway is what hides them.
        for (String service : List.of("user-service", "auth-service", "chat-service")) {
            Answer direct = http.call("GET", system.service(service).baseUrl(), "/q/health/ready", null, null);
            assertThat(direct.status()).as(service + " direct: " + direct).isEqualTo(200);
        }
        System.out.println("Gateway: " + paths.size() * 4 + " requests for internal and management routes");
        assertThat(violations).as("internal or management routes reachable through the gateway (" + violations.size()
                + ")\n" + String.join("\n", violations)).isEmpty();
    }

    /** The path as written and spellings a router or filter might see differently. */
    private static List<String> pathVariants(String path) {
        String rest = path.substring("/internal".length());
        return List.of(path, "/" + path, "/internal/" + rest, "/internal;x=1" + rest, "/%69nternal" + rest,
                "/internal%2F" + rest.substring(1), "/./internal" + rest, "/api/../internal" + rest, path + "/",
                path + ";x=1", "/INTERNAL" + rest, "/internal/." + rest);
    }

    private static Registered register(RecordingHttp http, String name, String plantedPassword) {
        String email = name.toLowerCase() + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        String password = plantedPassword == null ? "" : ",\"password\":\"" + plantedPassword + "\"";
        Answer created = expect(http.call("POST", system.gatewayUrl(), "/api/users", null, "{\"user\":{\"name\":\"" + name
                + "\",\"subname\":\"Leak\",\"email\":\"" + email + "\",\"job\":\"tester\"" + password + "}}"), 201);
        return new Registered(Exchange.read(created.body()).get("id").asLong(), email,
                system.awaitPassword(email, Duration.ofSeconds(30)));
    }

    private static String loginToken(RecordingHttp http, String email, String password) {
        return Exchange.read(expect(http.call("POST", system.gatewayUrl(), "/api/login", null, creds(email, password)), 200).body())
                .at("/data/token").asText();
    }

    private static String signatureOf(String token) {
        return token.substring(token.lastIndexOf('.') + 1);
    }

    private static String creds(String email, String password) {
        return Exchange.json(Map.of("creds", Map.of("email", email, "password", password)));
    }

    private static String passwordChange(String current, String next) {
        return Exchange.json(Map.of("current_password", current, "new_password", next));
    }

    private static Answer expect(Answer answer, int status) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(status);
        return answer;
    }

    /** A refusal of bad input: 400, 401 or 422, never a 5xx. */
    private static Answer expectRefused(Answer answer) {
        assertThat(answer.status()).as(answer.toString()).isIn(400, 401, 422);
        return answer;
    }

    private static String hashOf(long userId) throws SQLException {
        try (Connection connection = system.database().connect();
                PreparedStatement query = connection.prepareStatement("SELECT password_hash FROM users WHERE id = ?")) {
            query.setLong(1, userId);
            try (ResultSet rows = query.executeQuery()) {
                assertThat(rows.next()).as("user " + userId + " in the users table").isTrue();
                String hash = rows.getString(1);
                assertThat(hash).as("a bcrypt or argon2 hash").matches("\\$(2[aby]|argon2id?)\\$.{40,}");
                return hash;
            }
        }
    }

    private static String outboxBodies() throws SQLException {
        StringBuilder bodies = new StringBuilder();
        try (Connection connection = system.database().connect(); Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT coalesce(text_body, ''), coalesce(html_body, '') "
                        + "FROM mail_outbox WHERE status = 'SENT'")) {
            while (rows.next()) {
                bodies.append(rows.getString(1)).append(rows.getString(2));
            }
        }
        return bodies.toString();
    }

    /** The wrong logins above would count against this client address for the other system tests of the run. */
    private static void forgetFailedLogins() throws SQLException {
        try (Connection connection = system.database().connect(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("DELETE FROM login_failures");
        }
    }

    private static String textOf(Object content) throws Exception {
        if (content instanceof String text) {
            return text;
        }
        if (content instanceof Multipart multipart) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < multipart.getCount(); i++) {
                BodyPart part = multipart.getBodyPart(i);
                text.append(textOf(part.getContent())).append('\n');
            }
            return text.toString();
        }
        return String.valueOf(content);
    }

    private static String recipient(MimeMessage mail) {
        try {
            return mail.getRecipients(RecipientType.TO)[0].toString();
        } catch (Exception e) {
            return "";
        }
    }



    private record Registered(long id, String email, String password) {
        RunningSystem.TestUser asTestUser() {
            return new RunningSystem.TestUser(id, email, password);
        }
    }

    private record Route(String method, String path, String body) {
    }
}
