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

    private static JsonNode send(PhoenixTestSocket socket, long to, long conversation, String text) {
        JsonNode reply = socket.awaitReply(socket.push("room:chat", "send_msg",
                Map.of("user", to, "conv", conversation, "message", text)));
        assertThat(reply.get("status").asText()).as(reply.toString()).isEqualTo("ok");
        return reply.at("/response/message");
    }

}
