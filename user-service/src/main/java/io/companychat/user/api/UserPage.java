package io.companychat.user.api;

import java.util.List;

/** One page of the user directory; {@code next} is the {@code after} of the following page, null on the last. */
public record UserPage(List<UserView> data, String next) {
}
