package io.companychat.chat.event;

import io.companychat.chat.api.MessageView;

/**
 * A message was committed to the history; both participants should see it live.
 * {@code originConnectionId} is the socket that sent it (it gets the reply, not a push), null
 * when the message came over REST.
 */
public record MessageStored(MessageView message, long senderId, long recipientId, String originConnectionId) {
}
