package io.companychat.chat.api;

import java.util.List;

/**
 * One page of history, newest first. {@code next} is the cursor for the next (older) page, to be
 * passed as {@code before}; it is null on the last page.
 */
public record MessagePage(List<MessageView> data, String next) {
}
