package io.companychat.chat.socket;

import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.StringWriter;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Reads and writes Phoenix Channels frames (JSON arrays of five) with the service's ObjectMapper. */
@ApplicationScoped
public class PhoenixProtocol {

    public static final String PHOENIX_TOPIC = "phoenix";
    public static final String HEARTBEAT = "heartbeat";
    public static final String JOIN = "phx_join";
    public static final String LEAVE = "phx_leave";
    public static final String REPLY = "phx_reply";
    public static final String CLOSE = "phx_close";
    public static final String ERROR = "phx_error";

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final ObjectMapper mapper;

    public PhoenixProtocol(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** The frame, or null when the text is not a Phoenix frame at all. */
    public PhoenixFrame parse(String text) {
        JsonNode tree;
        try {
            tree = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
        if (tree == null || !tree.isArray() || tree.size() != 5 || !tree.get(2).isTextual() || !tree.get(3).isTextual()
                || !isRef(tree.get(0)) || !isRef(tree.get(1))) {
            return null;
        }
        JsonNode payload = tree.get(4);
        return new PhoenixFrame(tree.get(0), tree.get(1), tree.get(2).textValue(), tree.get(3).textValue(),
                payload.isObject() ? payload : NODES.objectNode());
    }

    public String replyOk(PhoenixFrame to, JsonNode response) {
        return reply(to, "ok", response);
    }

    /**
     * The ok reply with an empty response ({@code {"status": "ok", "response": {}}}), the answer of heartbeats,
     * {@code mark_read} and {@code typing}: written straight as text, without a tree of the frame first.
     */
    public String replyOk(PhoenixFrame to) {
        return write(to.joinRef(), to.ref(), to.topic(), REPLY, PhoenixProtocol::writeOkEmpty);
    }

    public String replyError(PhoenixFrame to, String reason) {
        return reply(to, "error", NODES.objectNode().put("reason", reason));
    }

    public String replyError(PhoenixFrame to, ObjectNode response) {
        return reply(to, "error", response);
    }

    /** Sent after a leave: the channel of that join is gone. */
    public String close(PhoenixFrame leave) {
        return encode(leave.joinRef(), leave.joinRef(), leave.topic(), CLOSE, NODES.objectNode());
    }

    /** Something the server pushes on its own: {@code [null, null, topic, event, payload]}. */
    public String push(String topic, String event, Object payload) {
        return encode(NullNode.getInstance(), NullNode.getInstance(), topic, event, mapper.valueToTree(payload));
    }

    /**
     * As {@link #push(String, String, Object)}, the payload written by {@code payload} straight into the frame's text:
     * for the pushes made by the thousand per second ({@code read}, {@code typing}), without a tree of the payload first.
     */
    public String push(String topic, String event, PayloadWriter payload) {
        return write(null, null, topic, event, payload);
    }

    /** A push that belongs to one join of the channel: {@code [join_ref, null, topic, event, payload]}. */
    public String pushOnJoin(JsonNode joinRef, String topic, String event, Object payload) {
        return encode(joinRef == null ? NullNode.getInstance() : joinRef, NullNode.getInstance(), topic, event,
                mapper.valueToTree(payload));
    }

    /**
     * As {@link #pushOnJoin(JsonNode, String, String, Object)}, the payload written by {@code payload} straight
     * into the frame's text: for the frames made by the thousand (presence), without a tree of the payload first.
     */
    public String pushOnJoin(JsonNode joinRef, String topic, String event, PayloadWriter payload) {
        return write(joinRef, null, topic, event, payload);
    }

    /** {@code [join_ref, ref, topic, event, payload]} as text; a null ref is written as JSON null. */
    private String write(JsonNode joinRef, JsonNode ref, String topic, String event, PayloadWriter payload) {
        StringWriter text = new StringWriter(128);
        try (JsonGenerator json = mapper.createGenerator(text)) {
            json.writeStartArray();
            writeRef(json, joinRef);
            writeRef(json, ref);
            json.writeString(topic);
            json.writeString(event);
            payload.write(json);
            json.writeEndArray();
        } catch (IOException e) {
            throw new IllegalStateException("frame could not be written", e);
        }
        return text.toString();
    }

    private static void writeRef(JsonGenerator json, JsonNode ref) throws IOException {
        if (ref == null) {
            json.writeNull();
        } else {
            json.writeTree(ref);
        }
    }

    private static void writeOkEmpty(JsonGenerator json) throws IOException {
        json.writeStartObject();
        json.writeStringField("status", "ok");
        json.writeObjectFieldStart("response");
        json.writeEndObject();
        json.writeEndObject();
    }

    /** Writes one payload as JSON. */
    @FunctionalInterface
    public interface PayloadWriter {
        void write(JsonGenerator json) throws IOException;
    }

    /** For frames that cannot be answered on their own ref (not JSON, wrong shape). */
    public String malformed() {
        return encode(NullNode.getInstance(), NullNode.getInstance(), PHOENIX_TOPIC, ERROR,
                NODES.objectNode().put("reason", "malformed frame: expected [join_ref, ref, topic, event, payload]"));
    }

    public ObjectNode object() {
        return NODES.objectNode();
    }

    public JsonNode tree(Object value) {
        return mapper.valueToTree(value);
    }

    private String reply(PhoenixFrame to, String status, JsonNode response) {
        ObjectNode payload = NODES.objectNode();
        payload.put("status", status);
        payload.set("response", response);
        return encode(to.joinRef(), to.ref(), to.topic(), REPLY, payload);
    }

    private String encode(JsonNode joinRef, JsonNode ref, String topic, String event, JsonNode payload) {
        ArrayNode frame = NODES.arrayNode(5);
        frame.add(joinRef).add(ref).add(topic).add(event).add(payload);
        try {
            return mapper.writeValueAsString(frame);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("frame could not be written", e);
        }
    }

    private static boolean isRef(JsonNode node) {
        return node.isNull() || node.isTextual() || node.isIntegralNumber();
    }
}
