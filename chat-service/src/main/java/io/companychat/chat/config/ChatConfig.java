package io.companychat.chat.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

@ConfigMapping(prefix = "chat")
public interface ChatConfig {

    /** What a client is told to wait ({@code Retry-After}, seconds) when user-service cannot answer. */
    @WithDefault("5")
    int userServiceRetryAfterSeconds();
}
