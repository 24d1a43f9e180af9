package io.companychat.chat.event;

import io.companychat.chat.api.MessageView;

/** A message was committed to the history; both participants should see it live. */
public record MessageStored(MessageView message, long senderId, long recipientId) {
}
