package io.companychat.chat.socket;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One frame of the Phoenix Channels protocol, serializer 2.0.0:
 * {@code [join_ref, ref, topic, event, payload]}. The refs are echoed back exactly as the client
 * sent them (strings for the phoenix npm client, but any JSON scalar or null is kept).
 */
public record PhoenixFrame(JsonNode joinRef, JsonNode ref, String topic, String event, JsonNode payload) {
}
