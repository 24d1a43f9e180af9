package io.companychat.system;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.fasterxml.jackson.databind.JsonNode;

import io.companychat.common.testing.PhoenixTestSocket;
import io.companychat.system.RunningSystem.TestUser;
import io.restassured.http.ContentType;

/** Two chat-service replicas on one database: users on different replicas chat both ways, live. */
@ExtendWith(SystemExtension.class)
class ReplicasIT {

    private static RunningSystem system;

    @Test
    void usersOnDifferentReplicasExchangeMessagesBothWays() {
        TestUser ann = system.register("Ann");
        TestUser ben = system.register("Ben");
        String annToken = system.login(ann);
        String benToken = system.login(ben);
        long conversation = system.conversation(annToken, ben.id());

        try (PhoenixTestSocket onReplica1 = PhoenixTestSocket.connect(system.wsBase("gateway"), annToken);
                PhoenixTestSocket onReplica2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken)) {
            assertThat(onReplica1.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
            assertThat(onReplica2.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");

            JsonNode sent = send(onReplica1, ben.id(), conversation, "from replica 1");
            assertThat(onReplica2.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(sent);

            JsonNode answer = send(onReplica2, ann.id(), conversation, "from replica 2");
            assertThat(onReplica1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(answer);

            String posted = given().baseUri(system.service("chat-service-2").baseUrl()).auth().oauth2(benToken)
                    .contentType(ContentType.JSON).body(Map.of("content", "over REST on replica 2"))
                    .when().post("/api/conversations/" + conversation + "/messages")
                    .then().statusCode(201).extract().asString();
            JsonNode pushed = onReplica1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message");
            assertThat(pushed.get("content").asText()).isEqualTo("over REST on replica 2");
            assertThat(posted).contains("\"id\":" + pushed.get("id").asLong());
        }
    }

    /**
     * Ann writes on replica 1; her phone on replica 2 gets her message, as Ben does wherever he is, once each. With
     * {@code CHAT_BUS=nats} a direct message is one publish on the pair's subject, which replica 2 follows twice when it
     * holds both users: each copy goes to its own user. The next push being the next message proves no duplicate.
     */
    @Test
    void sendersOtherDeviceOnAnotherReplicaGetsTheirMessageOnce() {
        TestUser ann = system.register("Ann");
        TestUser ben = system.register("Ben");
        String annToken = system.login(ann);
        String benToken = system.login(ben);
        long conversation = system.conversation(annToken, ben.id());

        try (PhoenixTestSocket annLaptop = PhoenixTestSocket.connect(system.wsBase("chat-service"), annToken);
                PhoenixTestSocket annPhone = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), annToken);
                PhoenixTestSocket benOnReplica1 = PhoenixTestSocket.connect(system.wsBase("chat-service"), benToken)) {
            assertThat(annLaptop.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
            assertThat(annPhone.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
            assertThat(benOnReplica1.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");

            JsonNode first = send(annLaptop, ben.id(), conversation, "Ben on my replica, my phone on the other");
            assertThat(annPhone.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message"))
                    .as("Ann's phone on replica 2 gets what her laptop on replica 1 sent").isEqualTo(first);
            assertThat(benOnReplica1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(first);

            try (PhoenixTestSocket benOnReplica2 = PhoenixTestSocket.connect(system.wsBase("chat-service-2"), benToken)) {
                assertThat(benOnReplica2.joinChat(Map.of()).get("status").asText()).isEqualTo("ok");
                JsonNode second = send(annLaptop, ben.id(), conversation, "both of us on the other replica too");
                JsonNode third = send(annLaptop, ben.id(), conversation, "the sentinel");
                for (PhoenixTestSocket onReplica2 : new PhoenixTestSocket[] { annPhone, benOnReplica2 }) {
                    assertThat(onReplica2.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message"))
                            .as("first push on replica 2").isEqualTo(second);
                    assertThat(onReplica2.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message"))
                            .as("the next push on replica 2 is the next message, not the same one again").isEqualTo(third);
                }
                assertThat(benOnReplica1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(second);
                assertThat(benOnReplica1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(third);

                JsonNode answer = send(benOnReplica2, ann.id(), conversation, "from replica 2");
                assertThat(annLaptop.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message")).isEqualTo(answer);
                assertThat(benOnReplica1.awaitPush("receive_msg", PhoenixTestSocket.WAIT).get("message"))
                        .as("Ben's other socket, on replica 1, gets what he sent from replica 2").isEqualTo(answer);
            }
        }
    }

    private static JsonNode send(PhoenixTestSocket socket, long to, long conversation, String text) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg",
                Map.of("user", to, "conv", conversation, "message", text)));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
        return reply.at("/response/message");
    }

}
