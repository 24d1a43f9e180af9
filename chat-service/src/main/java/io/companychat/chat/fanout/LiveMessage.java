package io.companychat.chat.fanout;

import io.companychat.chat.api.MessageView;

/**
 * A stored message on its way to live sockets: who gets it, and which socket sent it (that one
 * gets the reply instead; null when it came over REST).
 */
public record LiveMessage(MessageView message, long senderId, long recipientId, String originConnectionId) {
}
