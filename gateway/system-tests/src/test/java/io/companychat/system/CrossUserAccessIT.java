package io.companychat.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.RecordingHttp.Answer;
import io.companychat.system.RunningSystem.TestUser;

/**
 * Issue 8, "Security": nobody reads or writes a conversation they are not in, over REST or the socket, by any id.
 * Ann and Ben talk (and Eve and Fay, in the next conversation); Cat (who talks with Dan) tries every route that takes
 * a conversation or message id with the real ids, their neighbours, ids of messages, and ids that are no ids at all.
 * Every try gets API.md's refusal, nothing is stored, and no socket of Cat ever carries a message of Ann and Ben (nor
 * Ann's one of Cat and Dan).
 */
@ExtendWith(SystemExtension.class)
class CrossUserAccessIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration QUIET = Duration.ofSeconds(2);
    /** Marks every message of Ann and Ben (and Eve and Fay), so that any answer or frame carrying one is recognised. */
    private static final String SECRET = "ab-secret-" + UUID.randomUUID();

    private static RunningSystem system;
    private static final RecordingHttp HTTP = new RecordingHttp();
    private static TestUser ann;
    private static TestUser ben;
    private static TestUser cat;
    private static TestUser dan;
    private static String annToken;
    private static String benToken;
    private static String catToken;
    private static String danToken;
    private static long annBen;
    private static long catDan;
    private static long eveFay;
    private static final List<Long> foreignMessages = new ArrayList<>();

    @BeforeAll
    static void setUp(RunningSystem runningSystem) throws Exception {
        system = runningSystem;
        ann = system.register("Ann");
        ben = system.register("Ben");
        cat = system.register("Cat");
        dan = system.register("Dan");
        annToken = system.login(ann);
        benToken = system.login(ben);
        catToken = system.login(cat);
        danToken = system.login(dan);
        annBen = system.conversation(annToken, ben.id());
        // A second foreign conversation right after Ann and Ben's, so that their neighbouring id is a real one too.
        TestUser eve = system.register("Eve");
        String eveToken = system.login(eve);
        eveFay = system.conversation(eveToken, system.register("Fay").id());
        catDan = system.conversation(catToken, dan.id());
        for (int i = 0; i < 3; i++) {
            foreignMessages.add(post(annToken, annBen, SECRET + " from Ann " + i, "ann-" + i));
            foreignMessages.add(post(benToken, annBen, SECRET + " from Ben " + i, "ben-" + i));
        }
        foreignMessages.add(post(eveToken, eveFay, SECRET + " from Eve", "eve-0"));
        post(catToken, catDan, "Cat to Dan", "cat-0");
    }

    @Test
    void restRoutesAnswer404ToANonParticipantForEveryConversationIdAndStoreNothing() throws Exception {
        Set<Long> catsConversations = conversationsOf(catToken);
        long catMessagesBefore = count("SELECT count(*) FROM messages WHERE sender_id = ?", cat.id());
        List<Long> annBenBefore = messageIdsIn(annBen);
        List<String> ids = foreignConversationIds(catsConversations);
        long first = foreignMessages.get(0);
        long last = foreignMessages.get(foreignMessages.size() - 1);
        List<String> violations = new ArrayList<>();
        int tries = 0;
        for (String id : ids) {
            String messages = "/api/conversations/" + id + "/messages";
            Map<String, Answer> answers = new LinkedHashMap<>();
            for (String query : List.of("", "?limit=100", "?before=" + (last + 1), "?before=" + last, "?before=" + first,
                    "?before=" + (last + 1) + "&limit=1", "?limit=1&before=9223372036854775807")) {
                answers.put("GET " + messages + query, HTTP.call("GET", system.gatewayUrl(), messages + query, catToken, null));
            }
            answers.put("POST " + messages, HTTP.call("POST", system.gatewayUrl(), messages, catToken,
                    "{\"content\":\"Cat intrudes\"}"));
            answers.put("POST " + messages + " (Ann's client_id)", HTTP.call("POST", system.gatewayUrl(), messages, catToken,
                    "{\"content\":\"Cat intrudes\",\"client_id\":\"ann-0\"}"));
            answers.put("POST " + messages + " (fresh client_id)", HTTP.call("POST", system.gatewayUrl(), messages, catToken,
                    "{\"content\":\"Cat intrudes\",\"client_id\":\"cat-" + UUID.randomUUID() + "\"}"));
            for (Map.Entry<String, Answer> tried : answers.entrySet()) {
                tries++;
                Answer answer = tried.getValue();
                if (answer.status() != 404 || !isMessageShape(answer.body()) || answer.body().contains(SECRET)) {
                    violations.add(tried.getKey() + " -> " + answer.status() + " " + answer.body());
                }
            }
            // GET and PATCH (a rename) are API.md routes since groups, PUT and DELETE are not: never an answer with content.
            for (String method : List.of("GET", "PUT", "PATCH", "DELETE")) {
                tries++;
                String body = switch (method) {
                    case "PUT" -> "{\"recipient_id\":" + cat.id() + "}";
                    case "PATCH" -> "{\"title\":\"taken over\"}";
                    default -> null;
                };
                Answer answer = HTTP.call(method, system.gatewayUrl(), "/api/conversations/" + id, catToken, body);
                if ((answer.status() != 404 && answer.status() != 405) || answer.body().contains(SECRET)) {
                    violations.add(method + " /api/conversations/" + id + " -> " + answer.status() + " " + answer.body());
                }
            }
            for (String method : List.of("PUT", "PATCH", "DELETE")) {
                tries++;
                Answer answer = HTTP.call(method, system.gatewayUrl(), messages + "/" + first, catToken,
                        method.equals("DELETE") ? null : "{\"content\":\"rewritten\"}");
                if ((answer.status() != 404 && answer.status() != 405) || answer.body().contains(SECRET)) {
                    violations.add(method + " " + messages + "/" + first + " -> " + answer.status() + " " + answer.body());
                }
            }
        }
        System.out.println("Cross-user REST: " + tries + " requests by a non-participant over " + ids.size() + " ids " + ids);

        assertThat(violations).as("answers to a non-participant other than 404 {\"message\"} without content ("
                + violations.size() + " of " + tries + ")\n" + String.join("\n", violations)).isEmpty();
        assertThat(count("SELECT count(*) FROM messages WHERE sender_id = ?", cat.id()))
                .as("messages stored for Cat after the refused posts").isEqualTo(catMessagesBefore);
        assertThat(messageIdsIn(annBen)).as("Ann and Ben's messages after Cat's tries").isEqualTo(annBenBefore);
        assertThat(historyIds(annToken, annBen)).as("Ann and Ben's history as Ann sees it")
                .containsExactlyInAnyOrderElementsOf(annBenBefore);
    }

    @Test
    void aNonParticipantSeesNoForeignConversationAndNoForeignMessageInItsOwnHistory() {
        Answer list = HTTP.call("GET", system.gatewayUrl(), "/api/conversations", catToken, null);
        assertThat(list.status()).isEqualTo(200);
        assertThat(participantsOf(list.body())).as("Cat's conversation list: only conversations Cat takes part in")
                .allSatisfy(pair -> assertThat(pair).contains(cat.id()));
        assertThat(list.body()).doesNotContain("\"id\":" + annBen + ",");

        // A cursor taken from another conversation pages Cat's own conversation, nothing else.
        for (long cursor : List.of(foreignMessages.get(0), foreignMessages.get(foreignMessages.size() - 1) + 1,
                Long.MAX_VALUE)) {
            Answer page = HTTP.call("GET", system.gatewayUrl(), "/api/conversations/" + catDan + "/messages?limit=100&before="
                    + cursor, catToken, null);
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            assertThat(page.body()).as(page.toString()).doesNotContain(SECRET);
            for (JsonNode message : Exchange.read(page.body()).get("data")) {
                assertThat(message.get("conversation_id").asLong()).as(page.toString()).isEqualTo(catDan);
            }
        }

        // Starting a conversation with Ann or Ben gives Cat a conversation of Cat's own, never theirs.
        for (TestUser other : List.of(ann, ben)) {
            Answer started = HTTP.call("POST", system.gatewayUrl(), "/api/conversations", catToken,
                    "{\"recipient_id\":" + other.id() + "}");
            assertThat(started.status()).as(started.toString()).isIn(200, 201);
            JsonNode conversation = Exchange.read(started.body());
            assertThat(conversation.get("id").asLong()).as(started.toString()).isNotEqualTo(annBen);
            assertThat(Set.of(conversation.get("sender_id").asLong(), conversation.get("recipient_id").asLong()))
                    .as(started.toString()).containsExactlyInAnyOrder(cat.id(), other.id());
            Answer history = HTTP.call("GET", system.gatewayUrl(), "/api/conversations/" + conversation.get("id").asLong()
                    + "/messages", catToken, null);
            assertThat(history.body()).as(history.toString()).doesNotContain(SECRET);
        }
    }

    @Test
    void theSocketRefusesANonParticipantEverySendAndNeverPushesOrReplaysOthersMessages() throws Exception {
        long catMessagesBefore = count("SELECT count(*) FROM messages WHERE sender_id = ?", cat.id());
        List<Long> annBenBefore = messageIdsIn(annBen);
        List<String> violations = new ArrayList<>();
        int sends = 0;
        try (PhoenixTestSocket catOn1 = PhoenixTestSocket.connect(system.wsBase("gateway"), catToken);
                PhoenixTestSocket catOn2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), catToken);
                PhoenixTestSocket annOn1 = PhoenixTestSocket.connect(system.wsBase("gateway"), annToken);
                PhoenixTestSocket annOn2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), annToken);
                PhoenixTestSocket benOn2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken);
                PhoenixTestSocket danOn1 = PhoenixTestSocket.connect(system.wsBase("gateway"), danToken)) {
            // Topics naming a conversation, as a client of another chat app might try: Phoenix's "unmatched topic".
            for (String topic : List.of("room:" + annBen, "room:chat:" + annBen, "conversation:" + annBen,
                    "room:chat/" + annBen, "user:" + ann.id(), "room:lobby")) {
                String ref = catOn1.push(topic, "phx_join", Map.of("since", 0));
                JsonNode reply = catOn1.awaitReply(ref);
                if (!"error".equals(reply.path("status").asText())) {
                    violations.add("join " + topic + " -> " + reply);
                }
            }
            // Cat's catch-up from the first message on: only Cat's own conversations.
            for (PhoenixTestSocket socket : List.of(catOn1, catOn2)) {
                assertThat(socket.joinChat(Map.of("since", 0)).get("status").asText()).isEqualTo("ok");
            }
            for (PhoenixTestSocket socket : List.of(annOn1, annOn2, benOn2, danOn1)) {
                assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
            }

            Set<Long> catsConversations = conversationsOf(catToken);
            List<Object> convs = new ArrayList<>();
            for (String id : foreignConversationIds(catsConversations)) {
                convs.add(id.matches("-?[0-9]+") && new BigInteger(id).bitLength() < 64 ? (Object) Long.parseLong(id) : id);
            }
            convs.add(Long.toString(annBen));
            convs.add(new BigInteger("9223372036854775808"));
            List<Object> users = new ArrayList<>(List.of(ann.id(), ben.id(), cat.id(), dan.id(), Long.toString(ann.id())));
            users.add(null);
            for (PhoenixTestSocket socket : List.of(catOn1, catOn2)) {
                for (Object conv : convs) {
                    for (Object user : users) {
                        sends++;
                        Map<String, Object> payload = new LinkedHashMap<>();
                        payload.put("conv", conv);
                        if (user != null) {
                            payload.put("user", user);
                        }
                        payload.put("message", "Cat intrudes");
                        payload.put("client_id", "cat-" + UUID.randomUUID());
                        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg", payload));
                        if (!"error".equals(reply.path("status").asText()) || reply.toString().contains(SECRET)) {
                            violations.add("send_msg " + payload + " -> " + reply);
                        }
                    }
                }
                // Cat's own conversation, but naming Ann as the other participant: refused, nothing stored.
                for (long wrongUser : List.of(ann.id(), ben.id(), cat.id())) {
                    sends++;
                    JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg",
                            Map.of("conv", catDan, "user", wrongUser, "message", "Cat to the wrong user")));
                    if (!"error".equals(reply.path("status").asText())) {
                        violations.add("send_msg to Cat's own conversation naming user " + wrongUser + " -> " + reply);
                    }
                }
            }

            // Ann and Ben talk on both replicas, over the socket and REST, while Cat listens on both.
            List<Long> live = new ArrayList<>();
            live.add(sendOk(annOn1, ben.id(), annBen, SECRET + " live 1"));
            live.add(sendOk(benOn2, ann.id(), annBen, SECRET + " live 2"));
            live.add(sendOk(annOn2, ben.id(), annBen, SECRET + " live 3"));
            live.add(post(benToken, annBen, SECRET + " live 4 over REST", null));
            // Cat and Dan talk while Ann listens on both replicas.
            List<Long> catDanLive = new ArrayList<>();
            catDanLive.add(sendOk(catOn1, dan.id(), catDan, "Cat to Dan live"));
            catDanLive.add(sendOk(catOn2, dan.id(), catDan, "Cat to Dan from replica 2"));
            catDanLive.add(post(danToken, catDan, "Dan to Cat over REST", null));

            Map<PhoenixTestSocket, List<JsonNode>> drained = drainAll(List.of(annOn1, annOn2, benOn2, danOn1, catOn1, catOn2));
            for (PhoenixTestSocket listener : List.of(annOn1, annOn2, benOn2)) {
                List<JsonNode> frames = drained.get(listener);
                assertThat(receivedIds(frames, annBen)).as("Ann and Ben's sockets got their messages").isNotEmpty();
                List<Long> leaked = receivedIds(frames, catDan);
                if (!leaked.isEmpty()) {
                    violations.add("Ann's or Ben's socket got Cat and Dan's messages " + leaked);
                }
            }
            assertThat(receivedIds(drained.get(danOn1), catDan)).as("Dan's socket got Cat's messages").isNotEmpty();

            for (PhoenixTestSocket socket : List.of(catOn1, catOn2)) {
                List<JsonNode> frames = drained.get(socket);
                for (JsonNode frame : frames) {
                    JsonNode message = frame.path(4).path("message");
                    if ("receive_msg".equals(frame.path(3).asText())
                            && !catsConversations.contains(message.path("conversation_id").asLong())
                            || frame.toString().contains(SECRET)) {
                        violations.add("Cat's socket got " + frame);
                    }
                }
            }
            try (PhoenixTestSocket annLate = PhoenixTestSocket.connect(system.wsBase("gateway"), annToken)) {
                assertThat(annLate.joinChat(Map.of("since", 0)).get("status").asText()).isEqualTo("ok");
                List<Long> replayed = receivedIds(drain(annLate, QUIET), catDan);
                if (!replayed.isEmpty()) {
                    violations.add("Ann's catch-up replayed Cat and Dan's messages " + replayed);
                }
            }
            System.out.println("Cross-user socket: " + sends + " send_msg by a non-participant, 6 foreign topics, "
                    + live.size() + " live messages between others, " + catDanLive.size() + " of the intruder's own");

            assertThat(violations).as("socket answers and frames for a non-participant (" + violations.size() + ")\n"
                    + String.join("\n", violations)).isEmpty();
            List<Long> expected = new ArrayList<>(annBenBefore);
            expected.addAll(live);
            assertThat(messageIdsIn(annBen)).as("Ann and Ben's messages: theirs only").containsExactlyInAnyOrderElementsOf(expected);
            assertThat(count("SELECT count(*) FROM messages WHERE sender_id = ?", cat.id()))
                    .as("Cat's stored messages: only the two to Dan").isEqualTo(catMessagesBefore + 2);
        }
    }

    @Test
    void anotherUsersSocketsNeverGetMessagesOfAConversationTheyAreNotIn() throws Exception {
        // Ann keeps two sockets open (one per replica) while Cat and Dan exchange messages over both paths.
        try (PhoenixTestSocket annOn1 = PhoenixTestSocket.connect(system.wsBase("gateway"), annToken);
                PhoenixTestSocket annOn2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), annToken);
                PhoenixTestSocket catOn2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), catToken);
                PhoenixTestSocket danOn1 = PhoenixTestSocket.connect(system.wsBase("gateway"), danToken)) {
            for (PhoenixTestSocket socket : List.of(annOn1, annOn2, catOn2, danOn1)) {
                assertThat(socket.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
            }
            List<Long> sent = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                sent.add(sendOk(catOn2, dan.id(), catDan, "Cat to Dan " + i));
                sent.add(sendOk(danOn1, cat.id(), catDan, "Dan to Cat " + i));
            }
            sent.add(post(catToken, catDan, "Cat over REST", null));
            Map<PhoenixTestSocket, List<JsonNode>> drained = drainAll(List.of(danOn1, annOn1, annOn2));
            List<Long> danGot = receivedIds(drained.get(danOn1), catDan);
            assertThat(danGot).as("Dan's socket got Cat's messages (the test can see deliveries)").isNotEmpty();
            for (PhoenixTestSocket annSocket : List.of(annOn1, annOn2)) {
                assertThat(receivedIds(drained.get(annSocket), catDan)).as("Cat and Dan's messages on Ann's socket").isEmpty();
            }
        }
    }

    /** Ids that are not Cat's conversations: Ann and Ben's, its neighbours, message ids, and no ids at all. */
    private static List<String> foreignConversationIds(Set<Long> catsConversations) throws SQLException {
        long maxConversation = count("SELECT coalesce(max(id), 0) FROM conversations");
        Set<String> ids = new LinkedHashSet<>();
        for (long id : List.of(annBen, annBen - 1, annBen + 1, annBen + 2, eveFay, maxConversation + 1,
                maxConversation + 1000)) {
            if (id > 0 && !catsConversations.contains(id)) {
                ids.add(Long.toString(id));
            }
        }
        for (long message : foreignMessages) {
            if (!catsConversations.contains(message)) {
                ids.add(Long.toString(message));
            }
        }
        ids.addAll(List.of("0", "-1", "-" + annBen, "00" + annBen, "+" + annBen, annBen + ".0", "2147483647",
                "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
                "99999999999999999999999"));
        return new ArrayList<>(ids);
    }

    private static long post(String token, long conversation, String content, String clientId) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("content", content);
        if (clientId != null) {
            body.put("client_id", clientId);
        }
        Answer answer = HTTP.call("POST", system.gatewayUrl(), "/api/conversations/" + conversation + "/messages", token,
                Exchange.json(body));
        assertThat(answer.status()).as(answer.toString()).isEqualTo(201);
        return Exchange.read(answer.body()).get("id").asLong();
    }

    private static long sendOk(PhoenixTestSocket socket, long to, long conversation, String text) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg",
                Map.of("user", to, "conv", conversation, "message", text)));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
        return reply.at("/response/message/id").asLong();
    }

    private static Set<Long> conversationsOf(String token) {
        Answer answer = HTTP.call("GET", system.gatewayUrl(), "/api/conversations", token, null);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        Set<Long> ids = new LinkedHashSet<>();
        Exchange.read(answer.body()).get("data").forEach(c -> ids.add(c.get("id").asLong()));
        return ids;
    }

    private static List<Set<Long>> participantsOf(String listBody) {
        List<Set<Long>> pairs = new ArrayList<>();
        Exchange.read(listBody).get("data").forEach(c -> pairs.add(Set.of(c.get("sender_id").asLong(), c.get("recipient_id").asLong())));
        return pairs;
    }

    private static List<Long> historyIds(String token, long conversation) {
        Answer answer = HTTP.call("GET", system.gatewayUrl(), "/api/conversations/" + conversation + "/messages?limit=100",
                token, null);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        List<Long> ids = new ArrayList<>();
        Exchange.read(answer.body()).get("data").forEach(m -> ids.add(m.get("id").asLong()));
        return ids;
    }

    /** Every frame the socket got (and had not handed out yet) until it was quiet for {@code quiet}. */
    /** {@link #drain} of every socket at once: one quiet period for all of them. */
    static Map<PhoenixTestSocket, List<JsonNode>> drainAll(List<PhoenixTestSocket> sockets) {
        Map<PhoenixTestSocket, CompletableFuture<List<JsonNode>>> draining = new LinkedHashMap<>();
        for (PhoenixTestSocket socket : sockets) {
            draining.put(socket, CompletableFuture.supplyAsync(() -> drain(socket, QUIET)));
        }
        Map<PhoenixTestSocket, List<JsonNode>> drained = new LinkedHashMap<>();
        draining.forEach((socket, frames) -> drained.put(socket, frames.join()));
        return drained;
    }

    static List<JsonNode> drain(PhoenixTestSocket socket, Duration quiet) {
        List<JsonNode> seen = new ArrayList<>();
        try {
            socket.await(frame -> {
                seen.add(frame);
                return false;
            }, quiet, "nothing");
        } catch (AssertionError expected) {
            // the wait is the point: everything that came is in seen
        }
        return seen;
    }

    private static List<Long> receivedIds(List<JsonNode> frames, long conversation) {
        List<Long> ids = new ArrayList<>();
        for (JsonNode frame : frames) {
            JsonNode message = frame.path(4).path("message");
            if ("receive_msg".equals(frame.path(3).asText()) && message.path("conversation_id").asLong() == conversation) {
                ids.add(message.get("id").asLong());
            }
        }
        return ids;
    }

    private static List<Long> messageIdsIn(long conversation) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (Connection connection = system.database().connect();
                PreparedStatement query = connection.prepareStatement("SELECT id FROM messages WHERE conversation_id = ? ORDER BY id DESC")) {
            query.setLong(1, conversation);
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    ids.add(rows.getLong(1));
                }
            }
        }
        return ids;
    }

    private static long count(String sql, Object... parameters) throws SQLException {
        try (Connection connection = system.database().connect(); PreparedStatement query = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                query.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }

    private static boolean isMessageShape(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            return node.isObject() && node.size() == 1 && node.path("message").isTextual();
        } catch (Exception e) {
            return false;
        }
    }



}
